// A cdk8s validation plugin, listed in cdk8s.yaml, that gives `cdk8s synth` the app's exit code.
//
// cdk8s-cli prints a Node stack trace when the app exits non-zero. So when synthesis fails, the
// app (langflow_cdk8s/publish.py) prints its two-line error, writes `synthesis-failed.yaml` into
// the CLI's output folder and exits 0; this plugin, which the CLI runs next, finds that file and
// ends the CLI with the recorded exit code and nothing more on stderr. On success it ends the CLI
// quietly when it is the last validation, so `cdk8s synth` prints what `make synth` prints.
'use strict';

const fs = require('fs');
const path = require('path');

const MARKER = 'synthesis-failed.yaml';

class SynthesisStatus {
  constructor(properties) {
    this.properties = properties || {};
  }

  async validate(context) {
    const marker = context.manifests.find((file) => path.basename(file) === MARKER);
    if (marker) {
      const recorded = /^exitCode: (\d+)$/m.exec(fs.readFileSync(marker, 'utf-8'));
      process.exit(recorded ? Number(recorded[1]) : 1);
    }
    if (isLastValidation()) {
      process.exit(0); // skip the CLI's report table for a check that has nothing to report
    }
    context.report.submit('success');
  }
}

function isLastValidation() {
  try {
    // cdk8s.yaml as the CLI read it (from its working directory), with the YAML parser it ships with.
    // eslint-disable-next-line global-require
    const validations = require('yaml').parse(fs.readFileSync('cdk8s.yaml', 'utf-8')).validations;
    return Array.isArray(validations) && validations[validations.length - 1].class === 'SynthesisStatus';
  } catch (error) {
    return false;
  }
}

module.exports = { SynthesisStatus };

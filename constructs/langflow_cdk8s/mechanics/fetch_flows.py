"""Runs inside the runtime's init container (standard library only): downloads each flow, writes
its endpoint name into it and saves it as <id>.json where LANGFLOW_LOAD_FLOWS_PATH points.

Environment: FLOWS (JSON list of {id, url, endpoint_name}), FLOWS_DIR, and optionally
AUTH_HEADER_FILE (a file holding one "Name: value" header line, mounted from a Secret).
"""

import json
import os
import sys
import urllib.request


def main() -> int:
    flows = json.loads(os.environ["FLOWS"])
    target = os.environ["FLOWS_DIR"]
    headers = {}
    header_file = os.environ.get("AUTH_HEADER_FILE")
    if header_file:
        with open(header_file, encoding="utf-8") as handle:
            name, _, value = handle.read().strip().partition(":")
        headers[name.strip()] = value.strip()
    for flow in flows:
        request = urllib.request.Request(flow["url"], headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                document = json.load(response)
        except Exception as error:  # report which flow failed, then fail the pod start
            print(f"fetch-flows: {flow['url']}: {error}", file=sys.stderr)
            return 1
        if not isinstance(document, dict):
            print(f"fetch-flows: {flow['url']}: not a JSON object", file=sys.stderr)
            return 1
        document["id"] = flow["id"]
        document["endpoint_name"] = flow["endpoint_name"]
        with open(os.path.join(target, flow["id"] + ".json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        print(f"fetch-flows: {flow['endpoint_name']} <- {flow['url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

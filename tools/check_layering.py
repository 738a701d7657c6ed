#!/usr/bin/env python3
"""Fails when a module includes a module it may not depend on (docs/architecture.md, the
dependency table). A module is a folder under src/; includes are rooted at src/."""
import pathlib
import re
import sys

ALLOWED = {
    "third_party": set(),
    "core": set(),
    "model": {"core"},
    "config": {"core", "model"},
    "protocol": {"core", "model"},
    "auth": {"core", "model", "config"},
    "metrics": {"core"},
    "runtime": {"core", "metrics"},
    "engine": {"metrics", "core", "model", "config", "runtime"},
    "hub": {"metrics", "core", "model", "protocol", "runtime"},
    "node": {"metrics", "hub", "engine", "config", "runtime", "model", "protocol", "core"},
    "proxy": {"metrics", "core", "runtime", "config", "model", "protocol"},
    "session": {"metrics", "node", "hub", "protocol", "auth", "proxy", "config", "model", "core"},
    "transport": {"metrics", "session", "hub", "protocol", "runtime", "model", "config", "core"},
    "api": {"metrics", "session", "node", "hub", "runtime", "protocol", "config", "model", "core"},
    "server": {"metrics", "transport", "api", "auth", "runtime", "config", "core"},
    "app": None,  # the composition root may include everything
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".") / "src"
    errors = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".hpp", ".cpp", ".h"):
            continue
        module = path.relative_to(root).parts[0]
        if module not in ALLOWED:
            errors.append(f"{path}: folder '{module}' is not a known module")
            continue
        allowed = ALLOWED[module]
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or allowed is None:
                continue
            target = m.group(1)
            if target != module and target not in allowed:
                errors.append(f"{path}:{number}: {module} may not include {target}/")
    for e in errors:
        print(e)
    print(f"layering: {'FAILED' if errors else 'ok'} ({len(errors)} violations)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

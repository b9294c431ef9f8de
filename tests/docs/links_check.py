#!/usr/bin/env python3
"""Every tracked Markdown file stands on its own in a clone: its relative links lead to tracked
files, and it points nowhere outside the repository (../shared, the team's shared/DESIGN.md, a
/work/ path on the machine it was written on). Prints each offender as FILE:LINE: why, and
exits 1 if there is any. Usage: links_check.py [REPOSITORY] (default: this script's)."""
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

# Outside the repository, whatever the context (prose, code, a link).
OUTSIDE = [("../shared", "points outside the repository"),
           ("shared/DESIGN", "names the team's shared design document, not in a clone"),
           ("/work/", "names a path on the machine the document was written on")]
# [text](target) or ![alt](target), and reference definitions `[label]: target`.
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|#)")  # https:, mailto:, //host, #anchor


def tracked_files(repo: Path) -> list[str] | None:
    """The repository's tracked files, or None outside a git checkout (a source tarball)."""
    try:
        listing = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], check=True,
                                 capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in listing.split("\0") if name]


def targets(line: str) -> list[str]:
    found = INLINE.findall(line)
    reference = REFERENCE.match(line)
    if reference:
        found.append(reference.group(1))
    return found


def resolve(document: str, target: str) -> str:
    path = target.split("#", 1)[0].split("?", 1)[0]
    base = PurePosixPath(document).parent
    parts: list[str] = []
    for part in (base / path).parts if not path.startswith("/") else PurePosixPath(path[1:]).parts:
        if part == "..":
            if not parts:
                return "../" + path  # above the repository's root
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def check(repo: Path, files: list[str]) -> list[str]:
    tracked = set(files)
    directories = {str(parent) for name in files for parent in PurePosixPath(name).parents}
    offenders = []
    for document in sorted(name for name in files if name.endswith(".md")):
        in_fence = False
        text = (repo / document).read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{document}:{number}"
            for needle, why in OUTSIDE:
                if needle in line:
                    offenders.append(f"{where}: '{needle}' {why}")
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            if in_fence:
                continue
            for target in targets(line):
                if EXTERNAL.match(target):
                    continue
                resolved = resolve(document, target)
                if resolved not in tracked and resolved not in directories:
                    offenders.append(f"{where}: link to '{target}', which is not a tracked file")
    return offenders


def main() -> int:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    files = tracked_files(repo)
    if files is None:
        print(f"links_check: skipped, {repo} is not a git checkout")
        return 77
    offenders = check(repo, files)
    for offender in offenders:
        print(offender)
    if offenders:
        print(f"links_check: {len(offenders)} problem(s) in the tracked Markdown files")
        return 1
    print(f"links_check: ok, every relative link in {repo}'s tracked Markdown leads to a tracked file")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Check that the Simplified Chinese catalogue covers every UI string, and compile it.

    .venv/bin/python scripts/check_translations.py            # check only (make check)
    .venv/bin/python scripts/check_translations.py --compile  # write django.mo, then check

The check never modifies the repository. It

1. extracts the current msgids with Django's ``makemessages`` (same options as
   ``make messages``) run against a throw-away copy of the source files in a temporary
   directory, and compares them with ``locale/zh_Hans/LC_MESSAGES/django.po``;
2. inspects every entry of the .po: untranslated (empty msgstr, or an empty plural
   form), fuzzy, placeholders (``%(name)s``, ``%s``, ``{name}``) and HTML tags that the
   translation lost or invented, and the header (not fuzzy, Plural-Forms, UTF-8);
3. compiles the .po in memory with polib and compares the result, entry by entry, with the
   committed ``django.mo`` parsed by ``polib.mofile``.

Problems are listed per kind and the script exits 1. Entries of the .po that the code no
longer uses, and obsolete (``#~``) entries, are reported as warnings only.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
PO_PATH = ROOT / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Keep in step with the `messages` target of the Makefile.
IGNORE_PATTERNS = [".venv/*", "node_modules/*", "var/*", "static/*"]
# What makemessages reads for the "django" domain.
SOURCE_SUFFIXES = (".py", ".html", ".txt")
# Directory names never worth copying: makemessages ignores them anyway (dot-directories
# by default, the others through IGNORE_PATTERNS, which match a name at any depth).
SKIP_DIRS = {"node_modules", "var", "static", "__pycache__"}

Key = tuple[str | None, str]  # (msgctxt, msgid)

NAMED_RE = re.compile(r"%\((\w+)\)[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL_RE = re.compile(r"%(?!\()[#0 +-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")
BRACE_RE = re.compile(r"(?<!\{)\{(\w*)(?:[!:][^{}]*)?\}(?!\})")
TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


# ---------------------------------------------------------------------------- extraction


def _copy_sources(dest: Path) -> None:
    """Copy the files makemessages would read (``.py``, ``.html``, ``.txt``) into ``dest``."""
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = Path(dirpath).relative_to(ROOT)
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and not (rel == Path(".") and d == "locale")
        ]
        wanted = [f for f in filenames if f.endswith(SOURCE_SUFFIXES)]
        if not wanted:
            continue
        target = dest / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in wanted:
            shutil.copyfile(Path(dirpath) / name, target / name)


def extract() -> polib.POFile:
    """Run makemessages on a temporary copy of the tree and return the fresh catalogue."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    cwd = os.getcwd()
    saved_locale_paths = settings.LOCALE_PATHS
    with tempfile.TemporaryDirectory(prefix="liveops-i18n-") as tmp:
        tree = Path(tmp)
        _copy_sources(tree)
        (tree / "locale").mkdir()
        # makemessages writes into settings.LOCALE_PATHS[0] and into ./locale: point both
        # at the copy so the repository's catalogue is never touched.
        settings.LOCALE_PATHS = [str(tree / "locale")]
        out = io.StringIO()
        try:
            os.chdir(tree)
            call_command(
                "makemessages",
                locale=[LOCALE],
                no_location=True,
                no_obsolete=True,
                ignore_patterns=IGNORE_PATTERNS,
                verbosity=0,
                stdout=out,
                stderr=out,
            )
        finally:
            os.chdir(cwd)
            settings.LOCALE_PATHS = saved_locale_paths
        fresh = tree / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
        if not fresh.exists():
            raise SystemExit(f"makemessages produced no catalogue:\n{out.getvalue()}")
        return polib.pofile(str(fresh), wrapwidth=0)


# ---------------------------------------------------------------------------- checks


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt, entry.msgid)


def _label(entry: polib.POEntry | Key) -> str:
    ctxt, msgid = _key(entry) if isinstance(entry, polib.POEntry) else entry
    text = msgid if len(msgid) <= 90 else msgid[:87] + "..."
    text = text.replace("\n", "\\n")
    return f"[{ctxt}] {text!r}" if ctxt else repr(text)


def _placeholder_problems(source: str, translation: str, python_format: bool) -> list[str]:
    problems = []
    want, got = set(NAMED_RE.findall(source)), set(NAMED_RE.findall(translation))
    for name in sorted(want - got):
        problems.append(f"missing %({name})s")
    for name in sorted(got - want):
        problems.append(f"unknown %({name})s")
    if python_format:
        want_pos = [c for c in POSITIONAL_RE.findall(source) if c != "%"]
        got_pos = [c for c in POSITIONAL_RE.findall(translation) if c != "%"]
        if want_pos != got_pos:
            problems.append(f"positional placeholders %{want_pos} became %{got_pos}")
    want_b, got_b = Counter(BRACE_RE.findall(source)), Counter(BRACE_RE.findall(translation))
    for name in sorted(set(want_b) - set(got_b)):
        problems.append(f"missing {{{name}}}")
    for name in sorted(set(got_b) - set(want_b)):
        problems.append(f"unknown {{{name}}}")
    want_t, got_t = Counter(TAG_RE.findall(source)), Counter(TAG_RE.findall(translation))
    if want_t != got_t:
        lost = sorted((want_t - got_t).elements())
        extra = sorted((got_t - want_t).elements())
        problems.append(f"HTML tags differ (lost {lost}, added {extra})")
    return problems


def check_entries(po: polib.POFile) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"untranslated": [], "fuzzy": [], "placeholders": []}
    for entry in po:
        if entry.obsolete:
            continue
        if entry.fuzzy:
            found["fuzzy"].append(_label(entry))
        if entry.msgid_plural:
            forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            if not forms or any(not f for f in forms):
                found["untranslated"].append(_label(entry) + " (plural forms)")
                continue
            # Chinese has one form, used for every n: it must carry the plural's placeholders.
            sources = (
                [entry.msgid_plural] * len(forms)
                if len(forms) == 1
                else [entry.msgid] + [entry.msgid_plural] * (len(forms) - 1)
            )
            pairs = list(zip(sources, forms, strict=True))
        else:
            if not entry.msgstr:
                found["untranslated"].append(_label(entry))
                continue
            pairs = [(entry.msgid, entry.msgstr)]
        python_format = "python-format" in entry.flags
        for source, translation in pairs:
            for problem in _placeholder_problems(source, translation, python_format):
                found["placeholders"].append(f"{_label(entry)}: {problem}")
    return found


def check_header(po: polib.POFile) -> list[str]:
    problems = []
    if po.metadata_is_fuzzy:
        problems.append("the header is marked fuzzy (msgfmt would drop it): remove '#, fuzzy'")
    if "Plural-Forms" not in po.metadata:
        problems.append("the header has no Plural-Forms")
    if "charset=UTF-8" not in po.metadata.get("Content-Type", ""):
        problems.append("the header's Content-Type is not charset=UTF-8")
    return problems


def check_coverage(po: polib.POFile, fresh: polib.POFile) -> tuple[list[str], list[str]]:
    """(msgids the code uses that the .po lacks, .po entries the code no longer uses)."""
    have = {_key(e): e for e in po if not e.obsolete}
    used = {_key(e): e for e in fresh if not e.obsolete}
    missing = [_label(k) for k in used if k not in have]
    for k, e in used.items():
        if k in have and (have[k].msgid_plural or "") != (e.msgid_plural or ""):
            missing.append(f"{_label(k)}: plural form {e.msgid_plural!r} not in the .po")
    unused = [_label(k) for k in have if k not in used]
    return missing, unused


def _mo_table(mo: polib.MOFile) -> dict[tuple[str | None, str, str], object]:
    table: dict[tuple[str | None, str, str], object] = {}
    for e in mo:
        value: object = (
            tuple(e.msgstr_plural[i] for i in sorted(e.msgstr_plural))
            if e.msgid_plural
            else e.msgstr
        )
        table[(e.msgctxt, e.msgid, e.msgid_plural or "")] = value
    return table


def check_mo(po: polib.POFile) -> list[str]:
    if not MO_PATH.exists():
        return [f"{MO_PATH.relative_to(ROOT)} does not exist: run with --compile"]
    expected = polib.mofile(po.to_binary())
    actual = polib.mofile(str(MO_PATH))
    problems = []
    want, got = _mo_table(expected), _mo_table(actual)
    for k in want:
        if k not in got:
            problems.append(f"{_label((k[0], k[1]))}: not in the .mo")
        elif want[k] != got[k]:
            problems.append(f"{_label((k[0], k[1]))}: the .mo has {got[k]!r}, the .po {want[k]!r}")
    for k in got:
        if k not in want:
            problems.append(f"{_label((k[0], k[1]))}: in the .mo but not translated in the .po")
    for field in ("Plural-Forms", "Content-Type", "Language"):
        if expected.metadata.get(field) != actual.metadata.get(field):
            problems.append(
                f"header {field}: the .mo has {actual.metadata.get(field)!r}, "
                f"the .po {expected.metadata.get(field)!r}"
            )
    return problems


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compile", action="store_true", help="write django.mo from django.po")
    args = parser.parse_args(argv)

    rel_po = PO_PATH.relative_to(ROOT)
    if not PO_PATH.exists():
        print(f"{rel_po} does not exist. Run `make messages`.", file=sys.stderr)
        return 1
    po = polib.pofile(str(PO_PATH), wrapwidth=0)
    if args.compile:
        po.save_as_mofile(str(MO_PATH))
        print(f"compiled {MO_PATH.relative_to(ROOT)} ({len(po.translated_entries())} entries)")

    missing, unused = check_coverage(po, extract())
    found = check_entries(po)
    failures = {
        f"used in the code but missing from {rel_po} (run `make messages`)": missing,
        "untranslated (empty msgstr)": found["untranslated"],
        "fuzzy (review the translation, then delete the '#, fuzzy' line)": found["fuzzy"],
        "placeholders or HTML tags differ between msgid and msgstr": found["placeholders"],
        f"{rel_po} header": check_header(po),
        f"{MO_PATH.relative_to(ROOT)} does not match {rel_po} (run with --compile)": check_mo(po),
    }
    warnings = {
        f"in {rel_po} but no longer used by the code (`make messages` drops them)": unused,
        "obsolete entries (#~)": [_label(e) for e in po.obsolete_entries()],
    }
    for title, items in warnings.items():
        if items:
            print(f"warning: {len(items)} {title}:", file=sys.stderr)
            for item in items:
                print(f"  {item}", file=sys.stderr)
    failed = False
    for title, items in failures.items():
        if items:
            failed = True
            print(f"error: {len(items)} {title}:", file=sys.stderr)
            for item in items:
                print(f"  {item}", file=sys.stderr)
    total = len([e for e in po if not e.obsolete])
    if failed:
        print(f"translations: FAILED ({rel_po}, {total} entries)", file=sys.stderr)
        return 1
    print(f"translations: ok ({total} entries in {rel_po}, all translated and compiled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

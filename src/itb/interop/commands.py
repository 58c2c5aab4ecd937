"""The interchange subcommands of ``itb``: redcap, fhir, deidentify, workbook.

Each reads (and validates) its input first and writes its output all at once: on invalid
input every problem is listed as ``file:line: column: message`` and nothing is written
(exit 2). ``itb export --deidentified`` (the database) is in itb.cli.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_INVALID = 2
KEY_FILE = "deidentify.key"


def _lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("et", "en"), default=os.environ.get("ITB_LANG", "et"),
                        help="language of labels and messages (default: et, or $ITB_LANG)")


def _cutoff(parser: argparse.ArgumentParser) -> None:
    from itb.cli import _date

    parser.add_argument("--cutoff", type=_date, metavar="YYYY-MM-DD",
                        help="data cut-off (default: dataset.toml's cutoff, else today)")


def add_deidentify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key-file", type=Path, metavar="FILE",
                        help="secret key for the pseudonyms and date shifts (created when "
                             "missing); the same key gives a patient the same pseudonym")
    parser.add_argument("--dates", choices=("shift", "days"), default="shift",
                        help="shift: every date moved back by a per-patient 0–364 days "
                             "(default); days: days since the first implantation")
    parser.add_argument("--keep-free-text", action="store_true",
                        help="keep free-text columns (emptied by default: they can name people)")
    parser.add_argument("--excel", action="store_true", help="also write extract.xlsx")


def add_commands(commands: Any) -> None:
    redcap = commands.add_parser("redcap", help="REDCap: data dictionary, records in and out")
    actions = redcap.add_subparsers(dest="redcap_command", required=True, metavar="ACTION")
    dictionary = actions.add_parser("dictionary", help="write the registry's REDCap data "
                                                       "dictionary")
    dictionary.add_argument("out", type=Path, metavar="OUT.csv")
    dictionary.add_argument("--sites-from", type=Path, metavar="DATA_DIR",
                            help="a registry directory whose sites become the site choices")
    _lang(dictionary)
    dictionary.set_defaults(handler=cmd_redcap_dictionary)

    export = actions.add_parser("export", help="a registry directory as REDCap records")
    export.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    export.add_argument("out", type=Path, metavar="OUT.csv")
    export.add_argument("--dictionary", type=Path, metavar="DICT.csv",
                        help="also write the matching data dictionary")
    export.add_argument("--mapping", type=Path, metavar="MAPPING.toml",
                        help="write the records in another project's fields and codes "
                             "(the mapping file import reads)")
    export.add_argument("--project-dictionary", type=Path, metavar="THEIR_DICT.csv",
                        help="with --mapping: that project's data dictionary (its checkbox "
                             "and yes/no fields, its instruments)")
    _cutoff(export)
    _lang(export)
    export.set_defaults(handler=cmd_redcap_export)

    import_ = actions.add_parser("import", help="REDCap records as a registry directory")
    import_.add_argument("records", type=Path, metavar="RECORDS.csv")
    import_.add_argument("--dictionary", type=Path, required=True, metavar="DICT.csv")
    import_.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    import_.add_argument("--mapping", type=Path, metavar="MAPPING.toml",
                         help="their field names and codes -> the registry's (docs/redcap.md)")
    _cutoff(import_)
    import_.add_argument("--title", help="the data set's title (dataset.toml)")
    _lang(import_)
    import_.set_defaults(handler=cmd_redcap_import)

    fhir = commands.add_parser("fhir", help="FHIR R4")
    fhir_actions = fhir.add_subparsers(dest="fhir_command", required=True, metavar="ACTION")
    fhir_export = fhir_actions.add_parser("export", help="a registry directory as a FHIR R4 "
                                                         "Bundle (JSON)")
    fhir_export.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    fhir_export.add_argument("out", type=Path, metavar="OUT.json")
    fhir_export.add_argument("--deidentified", action="store_true",
                             help="no names or identifiers, pseudonymous ids, shifted dates")
    fhir_export.add_argument("--key-file", type=Path, metavar="FILE",
                             help="key of the pseudonyms and date shifts (with --deidentified)")
    fhir_export.add_argument("--patient", dest="patients", action="append", default=[],
                             metavar="PATIENT_ID", help="only this patient (repeatable)")
    _cutoff(fhir_export)
    _lang(fhir_export)
    fhir_export.set_defaults(handler=cmd_fhir_export)

    deidentify = commands.add_parser("deidentify", help="a de-identified research extract of a "
                                                        "registry directory")
    deidentify.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    deidentify.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    add_deidentify_options(deidentify)
    _cutoff(deidentify)
    _lang(deidentify)
    deidentify.set_defaults(handler=cmd_deidentify)

    workbook = commands.add_parser("workbook", help="a registry directory as an Excel workbook "
                                                    "(no identities)")
    workbook.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    workbook.add_argument("out", type=Path, metavar="OUT.xlsx")
    _cutoff(workbook)
    _lang(workbook)
    workbook.set_defaults(handler=cmd_workbook)


def _load(data_dir: Path, cutoff: date | None, lang: str) -> Any:
    from itb.cli import _load as load

    return load(data_dir, cutoff, lang)


def _invalid(error: Any, lang: str) -> int:
    print(error.render(lang), file=sys.stderr)
    summary = {"et": f"{len(error.problems)} viga; midagi ei kirjutatud.",
               "en": f"{len(error.problems)} problem(s); nothing was written."}
    print(summary[lang], file=sys.stderr)
    return EXIT_INVALID


def cmd_redcap_dictionary(args: argparse.Namespace) -> int:
    from itb.interop.redcap import write_dictionary

    sites = None
    if args.sites_from is not None:
        registry = _load(args.sites_from, None, args.lang)
        if registry is None:
            return EXIT_INVALID
        sites = registry.site_names
    count = write_dictionary(args.out, args.lang, sites)
    print(f"{args.out}: {count} fields")
    return EXIT_OK


def cmd_redcap_export(args: argparse.Namespace) -> int:
    from itb.interop.problems import InteropInvalid
    from itb.interop.redcap import export_records, write_dictionary

    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    try:
        rows = export_records(registry, args.out, args.mapping, args.project_dictionary)
    except InteropInvalid as invalid:
        return _invalid(invalid, args.lang)
    if args.dictionary is not None:
        write_dictionary(args.dictionary, args.lang, registry.site_names)
    print(f"{args.out}: {rows} rows")
    if registry.identity is not None:
        print("the records hold names and personal codes (identity.csv): keep them apart",
              file=sys.stderr)
    return EXIT_OK


def cmd_redcap_import(args: argparse.Namespace) -> int:
    from itb.interop.problems import InteropInvalid
    from itb.interop.redcap import import_records

    try:
        counts = import_records(args.records, args.dictionary, args.out_dir, args.mapping,
                                args.cutoff, args.title)
    except InteropInvalid as invalid:
        return _invalid(invalid, args.lang)
    rows = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.out_dir}: {rows}")
    return EXIT_OK


def cmd_fhir_export(args: argparse.Namespace) -> int:
    from itb.interop.common import write_file_atomically
    from itb.interop.deidentify import read_key
    from itb.interop.fhir import export_bundle, render
    from itb.interop.problems import InteropInvalid

    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    key = None
    if args.deidentified:
        try:
            key, _ = read_key(args.key_file)
        except InteropInvalid as invalid:
            return _invalid(invalid, args.lang)
    known = set(registry.patients.get_column("patient_id").to_list())
    unknown = [p for p in args.patients if p not in known]
    if unknown:
        print(f"itb: {', '.join(unknown)}: " + {"et": "sellist patsienti registris pole",
                                               "en": "no such patient in the registry"}[
                                                   args.lang], file=sys.stderr)
        return EXIT_INVALID
    bundle = export_bundle(registry, args.lang, args.deidentified, key, args.patients)
    write_file_atomically(args.out, render(bundle))
    print(f"{args.out}: {len(bundle['entry'])} resources")
    return EXIT_OK


def deidentify_registry(registry: Any, args: argparse.Namespace, key_file: Path | None,
                        source: str) -> int:
    from itb.interop.deidentify import Options
    from itb.interop.problems import InteropInvalid
    from itb.interop.research import write_extract

    lang = getattr(args, "lang", None) or os.environ.get("ITB_LANG", "et")  # export: no --lang
    try:
        counts = write_extract(registry, args.out_dir, key_file,
                               Options(args.dates, args.keep_free_text), args.excel, lang,
                               source)
    except InteropInvalid as invalid:
        return _invalid(invalid, lang)
    rows = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.out_dir}: {rows} (README.md says how it was de-identified)")
    return EXIT_OK


def cmd_deidentify(args: argparse.Namespace) -> int:
    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    return deidentify_registry(registry, args, args.key_file, str(args.data_dir))


def cmd_workbook(args: argparse.Namespace) -> int:
    from itb.interop.research import registry_workbook

    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    content = registry_workbook(registry, args.lang)
    temporary = args.out.with_name(f".{args.out.name}.tmp")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_bytes(content)
    os.replace(temporary, args.out)
    print(args.out)
    return EXIT_OK

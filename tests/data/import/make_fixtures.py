"""Writes the import test files of this folder from ../shared/data/references.json, so
that every title, author, journal, year, DOI and PMID in them is copied from the checked
references, never typed from memory. Run it again only to rebuild them:

    python tests/data/import/make_fixtures.py /path/to/shared/data/references.json

Formats: BibTeX (names in the order references.json gives them, which BibTeX reads as
"First von Last"), RIS (tags padded to two letters, two
spaces, "- "), PubMed's MEDLINE (.nbib) tag format (tags padded to four characters,
"- ", continuation lines indented by six spaces, a blank line between records) and
CSL-JSON. What is not in references.json is not in these files (no volume, pages or
abstract); PubMed publication types (PT) follow the reference's study design.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
refs = {r["key"]: r for r in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))}


def names(key: str) -> list[str]:
    return [n.strip() for n in refs[key]["authors"].split(",")]


def natural_to_bibtex(name: str) -> str:
    """'Olli Polo' -> 'Polo, Olli' (RIS and CSL want the family name apart); used only
    for names whose family name is their last word."""
    parts = name.split()
    particles = {"van", "von", "de", "der"}
    i = len(parts) - 1
    while i > 1 and parts[i - 1] in particles:
        i -= 1
    return f"{' '.join(parts[i:])}, {' '.join(parts[:i])}"


def vancouver_to_bibtex(name: str) -> str:
    """'Nishikai M' -> 'Nishikai, M': BibTeX would read 'Nishikai M' as first name
    Nishikai, last name M."""
    family, initials = name.rsplit(" ", 1)
    return f"{family}, {initials}"


def vancouver_to_ris(name: str) -> str:
    family, initials = name.rsplit(" ", 1)
    return f"{family}, {'. '.join(initials)}."


# --- BibTeX ------------------------------------------------------------------------
r = refs
bib = []
bib.append(
    "@article{brenu2011,\n"
    f"  title = {{{r['brenu2011_nk']['title']}}},\n"
    f"  author = {{{' and '.join(names('brenu2011_nk'))}}},\n"
    f"  journal = {{{r['brenu2011_nk']['journal']}}},\n"
    f"  year = {{{r['brenu2011_nk']['year']}}},\n"
    f"  doi = {{{r['brenu2011_nk']['doi']}}}\n"
    "}\n"
)
bib.append(
    "@article{cabanas2021,\n"
    f"  title = {{{r['cabanas2021_ldn_trpm3']['title']}}},\n"
    f"  author = {{{' and '.join(names('cabanas2021_ldn_trpm3'))}}},\n"
    f"  journal = {{{r['cabanas2021_ldn_trpm3']['journal']}}},\n"
    f"  year = {r['cabanas2021_ldn_trpm3']['year']},\n"
    f"  doi = {{{r['cabanas2021_ldn_trpm3']['doi']}}},\n"
    f"  pmid = {{{r['cabanas2021_ldn_trpm3']['pmid']}}}\n"
    "}\n"
)
bib.append(
    "@article{nishikai1992,\n"
    f"  title = {{{r['nishikai1992_nk_japan']['title']}}},\n"
    f"  author = {{{vancouver_to_bibtex(r['nishikai1992_nk_japan']['authors'])}}},\n"
    f"  journal = {{{r['nishikai1992_nk_japan']['journal']}}},\n"
    f"  year = {{{r['nishikai1992_nk_japan']['year']}}},\n"
    f"  pmid = {{{r['nishikai1992_nk_japan']['pmid']}}}\n"
    "}\n"
)
kim = r["kim2025_hbot_preprint"]
bib.append(
    "@unpublished{kim2025,\n"
    f"  title = {{{kim['title']}}},\n"
    "  author = {"
    + " and ".join(
        n.replace("ü", '{\\"u}')
        .replace("è", "{\\`e}")
        .replace("ê", "{\\^e}")
        .replace("ß", "{\\ss}")
        .replace("à", "{\\`a}")
        for n in names("kim2025_hbot_preprint")
    )
    + "},\n"
    f"  howpublished = {{{kim['journal']}}},\n"
    f"  year = {{{kim['year']}}},\n"
    f"  url = {{{kim['link']}}}\n"
    "}\n"
)
pat = r["uchida_patent_us5424300"]
bib.append(f"@patent{{uchida,\n  title = {{{pat['title']}}},\n  url = {{{pat['link']}}}\n}}\n")
# The same paper again, its DOI given as a link: a duplicate within the file.
bib.append(
    "@article{brenu2011again,\n"
    f"  title = {{{r['brenu2011_nk']['title']}}},\n"
    f"  journal = {{{r['brenu2011_nk']['journal']}}},\n"
    f"  year = {{{r['brenu2011_nk']['year']}}},\n"
    f"  doi = {{{r['brenu2011_nk']['link']}}}\n"
    "}\n"
)
# references.json has no verified title for this one: invalid (no title).
inosine = r["reg_inosine_pranobex_marketing"]
bib.append(f"@article{{inosine,\n  doi = {{{inosine['doi']}}}\n}}\n")
(HERE / "refs.bib").write_text("\n".join(bib), encoding="utf-8")

# --- RIS ----------------------------------------------------------------------------
ris = []
polo = r["polo2019_ldn"]
ris.append(
    "TY  - JOUR\n"
    + "".join(f"AU  - {natural_to_bibtex(n)}\n" for n in names("polo2019_ldn"))
    + f"TI  - {polo['title']}\nT2  - {polo['journal']}\nPY  - {polo['year']}\n"
    f"DO  - {polo['doi']}\nUR  - {polo['link']}\nER  - \n"
)
lutz = r["lutz2021_igg"]
ris.append(
    "TY  - JOUR\n"
    + "".join(f"AU  - {natural_to_bibtex(n)}\n" for n in names("lutz2021_igg"))
    + f"TI  - {lutz['title']}\nJO  - {lutz['journal']}\nPY  - {lutz['year']}///\n"
    f"DO  - {lutz['doi']}\nAN  - {lutz['pmid']}\nER  - \n"
)
gow = r["gow2001_rnasel_negative"]
ris.append(
    "TY  - JOUR\n"
    + "".join(f"AU  - {vancouver_to_ris(n)}\n" for n in names("gow2001_rnasel_negative"))
    + f"TI  - {gow['title']}\nT2  - {gow['journal']}\nPY  - {gow['year']}\n"
    f"DO  - {gow['doi']}\nAN  - {gow['pmid']}\nER  - \n"
)
trial = r["nct02965768_ldn_rct"]
ris.append(f"TY  - DBASE\nTI  - {trial['title']}\nUR  - {trial['link']}\nER  - \n")
(HERE / "refs.ris").write_text("\n".join(ris), encoding="utf-8")


# --- PubMed / MEDLINE ---------------------------------------------------------------
def wrap(tag: str, text: str, width: int = 80) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width - 6:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return f"{tag:<4}- {lines[0]}\n" + "".join(f"      {rest}\n" for rest in lines[1:])


def medline(key: str, types: list[str], full_names: list[tuple[str, str]] | None = None) -> str:
    ref = r[key]
    out = f"PMID- {ref['pmid']}\n"
    out += f"DP  - {ref['year']}\n"
    out += wrap("TI", ref["title"])
    if ref["doi"]:
        out += f"LID - {ref['doi']} [doi]\n"
    for name in names(key):
        if full_names:
            family, given = full_names.pop(0)
            out += f"FAU - {family}, {given}\n"
            out += f"AU  - {family} {''.join(w[0] for w in given.split())}\n"
        else:
            out += f"AU  - {name}\n"
    out += "".join(f"PT  - {t}\n" for t in types)
    out += f"TA  - {ref['journal']}\n"
    if ref["doi"]:
        out += f"AID - {ref['doi']} [doi]\n"
    return out


nbib = [
    # "narrative review": PubMed types a review "Review".
    medline(
        "brownlie2021_ivig_review",
        ["Journal Article", "Review"],
        [(n.split()[0], n.split()[1]) for n in names("brownlie2021_ivig_review")],
    ),
    # "randomized double-blind placebo-controlled trial".
    medline("rowe1997_ivig_adolescents", ["Journal Article", "Randomized Controlled Trial"]),
    medline("demeirleir2000_37kda", ["Journal Article"]),
    medline("wakefield1990_igg", ["Journal Article"]),
    medline("gow2001_rnasel_negative", ["Journal Article"]),
]
(HERE / "pubmed.nbib").write_text("\n".join(nbib), encoding="utf-8")


# --- CSL-JSON -----------------------------------------------------------------------
def csl_people_natural(key):
    people = []
    for n in names(key):
        family_given = natural_to_bibtex(n).split(", ", 1)
        people.append({"family": family_given[0], "given": family_given[1]})
    return people


def csl_people_vancouver(key):
    return [{"family": n.rsplit(" ", 1)[0], "given": n.rsplit(" ", 1)[1]} for n in names(key)]


csl = []
for key, people in (
    ("curriu2013_nk", csl_people_natural),
    ("baraniuk2024_nk_meta", csl_people_natural),
    ("guenther2015_igg", csl_people_vancouver),
    ("akarsu2013_hbot", csl_people_vancouver),
):
    ref = r[key]
    item = {
        "id": key,
        "type": "article-journal",
        "title": ref["title"],
        "author": people(key),
        "container-title": ref["journal"],
        "issued": {"date-parts": [[ref["year"]]]},
    }
    if ref["doi"]:
        item["DOI"] = ref["doi"]
    if ref["pmid"]:
        item["PMID"] = ref["pmid"]
    csl.append(item)
(HERE / "refs.json").write_text(json.dumps(csl, indent=2, ensure_ascii=False) + "\n", "utf-8")

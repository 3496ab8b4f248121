"""Text generators for the synthetic demo Pile: one small generator per subset.

Each generator takes a seeded `random.Random` and a target size in UTF-8 bytes and returns a
document that looks like its source (code for Github, arithmetic questions with correct
answers for DM Mathematics, IRC logs, e-mail headers, abstracts, subtitles, legal text, …).
The texts are invented from small word lists: they resemble the sources in form, never in
content, and nothing here comes from the real Pile.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import cycle

Generator = Callable[[random.Random, int], str]


def _words(text: str) -> list[str]:
    return text.split()


_COMMON = _words(
    "the of and to in is that for it with as was on be by this are from at or an have not "
    "which one all were but we can there been has more will their if about also other into"
)
_NOUNS = _words(
    "system model data study result process group water energy market city policy health "
    "student network method cell protein patient court device signal region history music "
    "family company program language theory value problem structure surface memory field"
)
_VERBS = _words(
    "shows uses provides requires describes improves reduces increases supports includes "
    "affects produces measures allows follows creates changes explains connects"
)
_ADJ = _words(
    "new large small important significant recent local general different common early "
    "public specific main social human natural similar complex simple final"
)
_NAMES = _words("Anna Ben Carla David Elena Farid Grace Hugo Irene Jonas Kim Lena Marco Nora")
_SURNAMES = _words("Smith Miller Garcia Chen Novak Okafor Rossi Schmidt Dubois Tanaka Brown")


def _sentence(rng: random.Random, extra: list[str] | tuple[str, ...] = (), n: int = 12) -> str:
    pool = [*_COMMON, *_NOUNS, *_NOUNS, *_VERBS, *_ADJ, *extra, *extra]
    words = [rng.choice(pool) for _ in range(rng.randint(max(3, n - 6), n + 6))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, extra: list[str] | tuple[str, ...] = (), k: int = 4) -> str:
    return " ".join(_sentence(rng, extra) for _ in range(rng.randint(2, k + 2)))


def _fill(target: int, head: str, unit: Callable[[], str], sep: str = "\n\n") -> str:
    """`head` then units joined by `sep` until `target` bytes, cut at the next word boundary."""
    parts = [head] if head else []
    size = len(head.encode())
    while size < target:
        piece = unit()
        parts.append(piece)
        size += len(piece.encode()) + len(sep)
    text = sep.join(parts)
    cut = text.find(" ", target)  # keep whole words; sizes stay unbiased around the target
    return text[:cut].strip() if cut > 0 else text.strip()


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_NAMES), rng.choice(_SURNAMES)


def _phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def pile_cc(rng: random.Random, target: int) -> str:
    topic = rng.choice(_NOUNS)
    footer = rng.choice(
        [
            f"Call us at {_phone(rng)} or write to info@{topic}-shop.example.com.",
            "We use cookies to improve your experience. Accept all cookies.",
            "Share this: Facebook Twitter Email Print",
        ]
    )
    head = f"{topic.title()} Guide | Best {rng.choice(_ADJ)} {topic} tips\n\nHome > Blog > {topic}"
    return _fill(target, head, lambda: rng.choice([_paragraph(rng), footer]))


def pubmed_central(rng: random.Random, target: int) -> str:
    bio = ["patients", "cohort", "expression", "tumor", "treatment", "clinical", "mice", "dose"]
    sections = cycle(["Introduction", "Materials and Methods", "Results", "Discussion"])

    def unit() -> str:
        stat = f"(n = {rng.randint(12, 900)}, p < 0.0{rng.randint(1, 5)})"
        return f"{next(sections)}\n\n{_paragraph(rng, bio)} {stat} [{rng.randint(1, 60)}]."

    return _fill(
        target, f"{_sentence(rng, bio, 9)[:-1]}\n\nAbstract\n\n{_paragraph(rng, bio)}", unit
    )


def _novel_unit(rng: random.Random, old: bool = False) -> str:
    words = ["thee", "whilst", "upon", "countenance", "sir", "madam"] if old else ["phone", "car"]
    name = rng.choice(_NAMES)
    line = f'"{_sentence(rng, words, 8)}" said {name}.'
    return rng.choice([_paragraph(rng, words), line, f"{name} {_sentence(rng, words).lower()}"])


def books3(rng: random.Random, target: int) -> str:
    return _fill(target, f"Chapter {rng.randint(1, 30)}", lambda: _novel_unit(rng))


def openwebtext2(rng: random.Random, target: int) -> str:
    first, last = _person(rng)
    quote = f'"{_sentence(rng, n=10)}" {first} {last}, a spokesperson, told reporters.'
    head = f"{_sentence(rng, n=8)[:-1]}\n\nPublished {rng.randint(1, 28)} March 2019"
    return _fill(target, head, lambda: rng.choice([_paragraph(rng, k=2), quote]))


def arxiv(rng: random.Random, target: int) -> str:
    maths = ["manifold", "operator", "bound", "theorem", "lemma", "estimate", "norm"]
    equations = [
        r"$\|u\|_{L^2} \le C \epsilon$",
        r"\begin{equation} E = \sum_{i} \lambda_i \end{equation}",
        r"$f(x) = \int_0^1 g(x, t)\, dt$",
    ]

    def unit() -> str:
        cite = rf"\cite{{{rng.choice(_SURNAMES).lower()}{rng.randint(1990, 2020)}}}"
        return f"{_paragraph(rng, maths)} {rng.choice(equations)} {cite}"

    return _fill(target, r"\section{Introduction}", unit)


def github(rng: random.Random, target: int) -> str:
    def unit() -> str:
        name = f"{rng.choice(_VERBS)[:-1]}_{rng.choice(_NOUNS)}"
        arg, other = rng.sample(_NOUNS, 2)
        return rng.choice(
            [
                f'def {name}({arg}, {other}=None):\n    """{_sentence(rng, n=6)}"""\n'
                f"    if {other} is None:\n        {other} = []\n"
                f"    for item in {arg}:\n        {other}.append(item * {rng.randint(2, 9)})\n"
                f"    return {other}\n",
                f"static int {name}(const char *{arg}, size_t n) {{\n"
                f"    int {other} = 0;\n    for (size_t i = 0; i < n; ++i) {{\n"
                f"        {other} += {arg}[i] & 0x{rng.randint(16, 255):02x};\n    }}\n"
                f"    return {other};\n}}\n",
            ]
        )

    return _fill(target, f"# {rng.choice(_NOUNS)}.py\nimport os\nimport sys\n", unit, "\n")


def freelaw(rng: random.Random, target: int) -> str:
    legal = ["plaintiff", "defendant", "appellant", "court", "statute", "motion", "judgment"]

    def unit() -> str:
        volume, page, year = rng.randint(1, 999), rng.randint(1, 1500), rng.randint(1970, 2015)
        cite = f"{volume} F.{rng.randint(2, 3)}d {page} (9th Cir. {year})"
        parties = f"{rng.choice(_SURNAMES)} v. {rng.choice(_SURNAMES)}"
        return f"{_paragraph(rng, legal)} See {parties}, {cite}."

    first, last = _person(rng)
    head = (
        f"UNITED STATES COURT OF APPEALS\n\n{first.upper()} {last.upper()}, Plaintiff-Appellant,\n"
        f"v.\n\nSTATE OF {rng.choice(['OREGON', 'NEVADA', 'IDAHO'])}, Defendant-Appellee.\n\n"
        "OPINION"
    )
    return _fill(target, head, unit)


def stackexchange(rng: random.Random, target: int) -> str:
    code = f"    x = {rng.choice(_NOUNS)}.{rng.choice(_VERBS)}({rng.randint(0, 99)})"
    title = f"How to {rng.choice(_VERBS)[:-1]} a {rng.choice(_NOUNS)}?"
    question = f"Q:\n\n{title}\n\n{_paragraph(rng, k=1)}\n\n{code}"
    return _fill(target, question, lambda: f"A:\n\n{_paragraph(rng, ['function', 'error', 'use'])}")


def uspto(rng: random.Random, target: int) -> str:
    patent = ["apparatus", "assembly", "invention", "embodiment", "housing", "sensor", "valve"]
    head = (
        "BACKGROUND OF THE INVENTION\n\n1. Field of the Invention\n\nThe present invention relates "
        f"to a {rng.choice(_ADJ)} {rng.choice(patent)} for {rng.choice(_NOUNS)} control.\n\n"
        "2. Description of the Related Art"
    )
    return _fill(target, head, lambda: _paragraph(rng, patent))


def pubmed_abstracts(rng: random.Random, target: int) -> str:
    bio = ["patients", "risk", "trial", "therapy", "outcome", "randomized", "serum"]
    labels = iter(["OBJECTIVE:", "METHODS:", "RESULTS:", "CONCLUSIONS:"] * 50)
    return _fill(
        target, _sentence(rng, bio, 9), lambda: f"{next(labels)} {_paragraph(rng, bio, 1)}", "\n"
    )


def gutenberg(rng: random.Random, target: int) -> str:
    numeral = rng.choice(["I", "II", "III", "IV", "V", "VI"])
    head = f"CHAPTER {numeral}.\n\nTHE {rng.choice(_NOUNS).upper()}"
    return _fill(target, head, lambda: _novel_unit(rng, old=True))


def opensubtitles(rng: random.Random, target: int) -> str:
    lines = [
        "What?",
        "I don't know.",
        "Come on!",
        "Where are you going?",
        "Get out of here.",
        "It's not what you think.",
        "Thank you.",
        "We have to go. Now.",
        "Are you okay?",
    ]

    def unit() -> str:
        return f"- {rng.choice(lines)}\n- {_sentence(rng, n=5)}"

    return _fill(target, "", unit, "\n")


def wikipedia(rng: random.Random, target: int) -> str:
    title = f"{rng.choice(_NAMES)} {rng.choice(_NOUNS).title()}"
    head = (
        f"{title}\n\n{title} is a {rng.choice(_ADJ)} {rng.choice(_NOUNS)} "
        f"in {rng.choice(_SURNAMES)}ville. "
        f"It was founded in {rng.randint(1800, 2005)}."
    )
    return _fill(target, head, lambda: f"History\n\n{_paragraph(rng, k=2)}")


def dm_mathematics(rng: random.Random, target: int) -> str:
    def unit() -> str:
        a, b, x = rng.randint(2, 40), rng.randint(-90, 90), rng.randint(-20, 20)
        kind = rng.randrange(3)
        if kind == 0:
            return f"Solve {a}*z + {b} = {a * x + b} for z.\n{x}"
        if kind == 1:
            return f"What is {a} + {b} - {x}?\n{a + b - x}"
        n = a * 97 + abs(b)
        return f"Calculate the remainder when {n} is divided by {a}.\n{n % a}"

    return _fill(target, "", unit, "\n")


def ubuntu_irc(rng: random.Random, target: int) -> str:
    nicks = ["ubottu", "jrib", "ActionParsnip", "ikonia", "bazhang", "newbie42", "sudo_user"]
    says = [
        "try sudo apt-get update",
        "what does dmesg say?",
        "which release are you on?",
        "my wifi stopped working after the upgrade",
        "did you check /etc/fstab?",
        "thanks, that worked",
    ]
    start = rng.randint(0, 22 * 60)

    def unit() -> str:
        nonlocal start
        start += rng.randint(0, 3)
        msg = f"my router is at {_ipv4(rng)}" if rng.random() < 0.02 else rng.choice(says)
        return f"[{start // 60 % 24:02d}:{start % 60:02d}] <{rng.choice(nicks)}> {msg}"

    return _fill(target, "", unit, "\n")


def bookcorpus2(rng: random.Random, target: int) -> str:
    return _fill(target, f"Chapter {rng.choice(['One', 'Two', 'Three'])}", lambda: _novel_unit(rng))


# EuroParl in The Pile is multilingual, one language per document: a few demo documents are
# German, French or Spanish (invented sentences, as everywhere in this module)
_EUROPARL_OTHER = {
    "de": (
        "Herr Präsident, meine Damen und Herren, die Kommission hat einen Vorschlag vorgelegt.",
        "Wir müssen die Rechte der Bürger in allen Mitgliedstaaten schützen.",
        "Der Bericht des Ausschusses enthält viele wichtige Empfehlungen für die Zukunft.",
        "Ich danke der Berichterstatterin für ihre ausgezeichnete Arbeit.",
        "Die Aussprache ist geschlossen. Die Abstimmung findet morgen statt.",
    ),
    "fr": (
        "Monsieur le Président, chers collègues, la sécurité des citoyens est essentielle.",
        "Nous devons protéger les droits des travailleurs dans toute l'Union européenne.",
        "Le rapport de la commission contient des propositions très importantes.",
        "Je remercie la rapporteure pour son excellent travail sur ce dossier.",
        "Le débat est clos. Le vote aura lieu demain à midi.",
    ),
    "es": (
        "Señor Presidente, la Comisión debe garantizar la cohesión económica y social.",
        "Tenemos que defender los derechos de los ciudadanos en todos los Estados miembros.",
        "El informe de la comisión contiene recomendaciones muy importantes para el futuro.",
        "Quiero dar las gracias a la ponente por su excelente trabajo.",
        "Se cierra el debate. La votación tendrá lugar mañana a las doce.",
    ),
}


def europarl(rng: random.Random, target: int) -> str:
    language = rng.choice(["en", "en", "de", "fr", "es"])
    if language != "en":
        sentences = _EUROPARL_OTHER[language]
        return _fill(target, "", lambda: " ".join(rng.sample(sentences, 3)), "\n")
    lines = [
        "Mr President, I would like to thank the rapporteur for her excellent report.",
        "Herr Präsident, meine Damen und Herren, die Kommission hat einen Vorschlag vorgelegt.",
        "Monsieur le Président, chers collègues, la sécurité des citoyens est essentielle.",
        "Señor Presidente, la Comisión debe garantizar la cohesión económica y social.",
        "(Applause)",
        "The debate is closed. The vote will take place tomorrow at 12 noon.",
    ]
    return _fill(
        target, "Resumption of the session", lambda: f"{rng.choice(lines)} {_sentence(rng)}", "\n"
    )


def hackernews(rng: random.Random, target: int) -> str:
    users = ["pg", "tptacek", "patio11", "throwaway123", "dang", "jacquesm"]
    title = f"Show HN: A {rng.choice(_ADJ)} {rng.choice(_NOUNS)} written in Rust"
    return _fill(
        target, title, lambda: f"{rng.choice(users)}: {_paragraph(rng, ['startup', 'code'], 1)}"
    )


def youtube_subtitles(rng: random.Random, target: int) -> str:
    fillers = ["so", "um", "like", "you know", "okay", "right", "and then", "basically"]

    def unit() -> str:
        return " ".join(
            rng.choice([*fillers, *_COMMON, *_NOUNS]) for _ in range(rng.randint(6, 14))
        )

    return _fill(target, "hey everyone welcome back to the channel", unit, "\n")


def philpapers(rng: random.Random, target: int) -> str:
    phil = [
        "argument",
        "premise",
        "knowledge",
        "belief",
        "normative",
        "Kant",
        "realism",
        "justification",
    ]
    return _fill(
        target,
        f"On the {rng.choice(phil).title()} of {rng.choice(_NOUNS).title()}",
        lambda: _paragraph(rng, phil, 5),
    )


def nih_exporter(rng: random.Random, target: int) -> str:
    grant = ["aims", "proposal", "investigators", "preliminary", "hypothesis", "funding"]
    subject = f"{rng.choice(_NOUNS)} {rng.choice(_VERBS)}"
    head = f"The long-term goal of this proposal is to understand how {subject} disease."
    return _fill(target, head, lambda: f"Aim {rng.randint(1, 3)}: {_paragraph(rng, grant, 2)}", " ")


def enron_emails(rng: random.Random, target: int) -> str:
    (f1, l1), (f2, l2) = _person(rng), _person(rng)
    head = (
        f"Message-ID: <{rng.randint(10**6, 10**7)}.JavaMail.evans@thyme>\n"
        f"From: {f1.lower()}.{l1.lower()}@enron.com\nTo: {f2.lower()}.{l2.lower()}@enron.com\n"
        f"Subject: Re: {rng.choice(_NOUNS)} schedule\n\n{f2},"
    )
    sign = f"Thanks,\n{f1}\n{_phone(rng)}"
    return _fill(target, head, lambda: rng.choice([_paragraph(rng, ["gas", "deal", "desk"]), sign]))


# canonical Pile subset name -> generator (the order of the paper's Table 1)
GENERATORS: dict[str, Generator] = {
    "Pile-CC": pile_cc,
    "PubMed Central": pubmed_central,
    "Books3": books3,
    "OpenWebText2": openwebtext2,
    "ArXiv": arxiv,
    "Github": github,
    "FreeLaw": freelaw,
    "StackExchange": stackexchange,
    "USPTO Backgrounds": uspto,
    "PubMed Abstracts": pubmed_abstracts,
    "Gutenberg (PG-19)": gutenberg,
    "OpenSubtitles": opensubtitles,
    "Wikipedia (en)": wikipedia,
    "DM Mathematics": dm_mathematics,
    "Ubuntu IRC": ubuntu_irc,
    "BookCorpus2": bookcorpus2,
    "EuroParl": europarl,
    "HackerNews": hackernews,
    "YoutubeSubtitles": youtube_subtitles,
    "PhilPapers": philpapers,
    "NIH ExPorter": nih_exporter,
    "Enron Emails": enron_emails,
}

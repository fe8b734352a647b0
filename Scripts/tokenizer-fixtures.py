#!/usr/bin/env python3
"""Differential-test fixtures and benchmark text for the ChatTokenizer module.

Python `tiktoken` (pip install tiktoken) is the reference. It cannot download rank files
here, so each encoding is built from the rank files bundled with ChatTokenizer.

    python3 Scripts/tokenizer-fixtures.py                  # writes Tests/ChatTokenizerTests/Fixtures/*.jsonl
    python3 Scripts/tokenizer-fixtures.py --bench-text F   # writes 1 MiB of mixed text to F

A fixture file holds one JSON object per line:
    {"in": <input bytes, base64>, "all": [ids with allowed_special="all"], "plain": [ids]}
"plain" (special tokens encoded as ordinary text) is present only when it differs from "all".
Inputs that are not valid UTF-8 are first decoded with errors="replace" (each maximal invalid
subsequence becomes U+FFFD), which is the behaviour ChatTokenizer documents for byte input.
"""

import argparse
import base64
import json
import pathlib
import random
import unicodedata

import tiktoken
import tiktoken.load

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "Sources/ChatTokenizer/Resources"
FIXTURES = ROOT / "Tests/ChatTokenizerTests/Fixtures"
SEED = 20240604
CASES_PER_ENCODING = 2400

CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
ENCODINGS = {
    "cl100k_base": (
        CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": (O200K_PATTERN, {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
}


def load_encoding(name):
    """Builds a tiktoken Encoding from the bundled rank file."""
    pattern, specials = ENCODINGS[name]
    ranks = tiktoken.load.load_tiktoken_bpe(str(RESOURCES / f"{name}.tiktoken"))
    return tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)


# --- Text generators ------------------------------------------------------------------------

WORDS = (
    "the of and to in is that it was for on are as with his they at be this from have or by one "
    "had not but what all were when we there can an your which their said if do will each about "
    "how up out them then she many some so these would other into has more her two like him see "
    "time could no make than first been its who now people my made over did down only way find use "
    "may water long little very after words called just where most know get through back much go "
    "good new write our me man too any day same right look think also around another came come work "
    "three word must because does part even place well such here take why things help put years "
    "different away again off went old number great tell men say small every found still between "
    "name should home big give air line set own under read last never us left end along while might "
    "next sound below saw something thought both few those always looked show large often together "
    "asked house don't world going want school important until form food keep children feet land "
    "tokenizer Redis memory Swift encoding byte pair merge rank throughput latency cache vector "
    "HTTP JSON API URL iPhone McDonald O'Neill naïve café résumé coöperate façade Zürich São Paulo"
).split()
CODE_LINES = [
    "func encode(_ text: String) -> [Int] {",
    "    let tokens = tokenizer.encode(text, specialTokens: .allowAll)",
    "    return tokens.count > 0 ? tokens : []",
    "}",
    "def main(argv: list[str]) -> int:",
    "    for i, line in enumerate(open(path, 'rb')):",
    "        if not line.strip(): continue  # skip blank lines",
    "#include <stdio.h>",
    "int main(int argc, char **argv) { printf(\"%d\\n\", argc); return 0; }",
    "const x = {a: 1, 'b': [2, 3], \"c\": null}; // trailing comment",
    "SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY id DESC;",
    "\tif (x != y && z >= 0x1F) { y <<= 2; }",
    "<div class=\"chat\"><p>Hello&nbsp;world</p></div>",
    "    self.assertEqual(result, [100257, 9906, 1917])",
    "let url = URL(string: \"https://example.com/a/b?c=d&e=f#g\")!",
    "    }}}]]);;  /* nested */ ->> => :: ... ?? !! ~~ ^^ $$ @@",
    "x=1;y=22;z=333;w=4444;v=55555;u=666666",
    "    return f\"{name!r}: {value:>10.3f}\"",
]
SCRIPTS = [
    "中文分词测试，这是一个句子。", "日本語のテキストです。カタカナ、ひらがな、漢字。ラーメン",
    "한국어 문장입니다. 안녕하세요!", "مرحبا بالعالم، هذه جملة عربية.", "שלום עולם",
    "नमस्ते दुनिया, यह हिंदी है।", "สวัสดีครับ นี่คือภาษาไทย", "Привет, мир! Это русский текст.",
    "Γειά σου Κόσμε", "Ελληνικά ΚΕΦΑΛΑΙΑ", "ǅemal ǈubljana ǋego", "ʰʲʷ ˈstress ˌsecondary",
    "e\u0301 a\u0308\u0301 o\u0302\u0323 \u0301\u0302 x\u20dd", "ﬁ ﬂ ﬀ ẞ ß ſ",
    "ⅫⅣ ½ ¾ ² ³ ① ٣٤٥ ३४५ ３４５ 𝟙𝟚𝟛", "𝐀𝐁𝐂 𝒶𝒷𝒸 𝔄𝔅", "Ꭰ Ꭱ Ꭲ ꭰ ꭱ", "ᐊᐃᐅ ᚠᚡᚢ",
]
EMOJI = [
    "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "🇯🇵", "1️⃣", "❤️", "🧑🏿‍💻", "😀😃😄",
    "🤷‍♀️", "👩🏻‍🤝‍👨🏾", "©", "™", "🫠", "☺︎",
]
WHITESPACE = [" ", "  ", "\n", "\n\n", "\t", "\r\n", "\r", "\u00a0", "\u3000", "\u2003", "\u0085",
              "\u2028", "\x0b", "\x0c", " \n ", "\t\t", "    "]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL",
                "'D", "'M", "'ſ", "''", "'", "'x", "’s", "'lL", "'rE"]


def random_scalar(rng):
    """An assigned, non-surrogate scalar from a range weighted towards the BMP."""
    while True:
        top = rng.choice([0x80, 0x800, 0x3000, 0x10000, 0x10000, 0x20000, 0x30000])
        c = chr(rng.randrange(0, top))
        category = unicodedata.category(c)
        if category not in ("Cs", "Cn", "Co"):
            return c


def prose(rng):
    sentences = []
    for _ in range(rng.randint(1, 6)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 18))]
        if rng.random() < 0.3:
            i = rng.randrange(len(words))
            words[i] = words[i].upper() if rng.random() < 0.5 else words[i].capitalize()
        if rng.random() < 0.4:
            i = rng.randrange(len(words))
            words[i] += rng.choice(CONTRACTIONS)
        sentence = " ".join(words)
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", ",", ":", "...", ""]))
    return rng.choice([" ", "  ", "\n", "\n\n"]).join(sentences)


def code(rng):
    lines = [rng.choice(CODE_LINES) for _ in range(rng.randint(1, 10))]
    indent = rng.choice(["", "    ", "\t", "  "])
    return rng.choice(["\n", "\r\n", "\n\n"]).join(indent + line for line in lines) + rng.choice(["", "\n", "   "])


def whitespace(rng):
    parts = []
    for _ in range(rng.randint(1, 12)):
        run = rng.choice(WHITESPACE) * rng.choice([1, 1, 2, 5, 40])
        parts.append(run + rng.choice(["", rng.choice(WORDS), "1", "!", "中", "é"]))
    return "".join(parts)


def digits(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        n = rng.choice([1, 2, 3, 4, 7, 12, 30])
        number = "".join(rng.choice("0123456789") for _ in range(n))
        parts.append(rng.choice(["", " ", "$", "-", "v", "abc", "x"]) + number + rng.choice(["", ".5", ",000", "%", "th", "km", " "]))
    return rng.choice(["", " ", "\n"]).join(parts)


def contractions(rng):
    parts = []
    for _ in range(rng.randint(1, 8)):
        base = rng.choice(["I", "you", "HE", "it", "we", "they", "don", "can", "1", " ", "", "é", "中"])
        parts.append(base + rng.choice(CONTRACTIONS) + rng.choice(["", "x", "s", " ", "'", "\n"]))
    return rng.choice([" ", ""]).join(parts)


def scripts(rng):
    return rng.choice([" ", "", "\n"]).join(rng.choice(SCRIPTS + WORDS) for _ in range(rng.randint(1, 6)))


def emoji(rng):
    return "".join(rng.choice(EMOJI + [" ", "", "a", "!", "\n", " hi"]) for _ in range(rng.randint(1, 10)))


def specials(rng, names):
    pieces = list(names) + ["<|", "|>", "<|endoftext", "endoftext|>", "<|unknown|>", " ", "\n", "x"]
    return "".join(rng.choice(pieces + [rng.choice(WORDS)]) for _ in range(rng.randint(1, 10)))


def random_chars(rng):
    return "".join(random_scalar(rng) if rng.random() < 0.6 else rng.choice(WHITESPACE + ["a", "A", "'", "1"])
                   for _ in range(rng.randint(1, 40)))


SOUP = ["A", "a", "ǅ", "ʰ", "中", "\u0301", "\u0903", "\u20dd", "1", "٣", "Ⅻ", "½", "!", "/", "'", "s", "T",
        "ll", "RE", "ſ", " ", "  ", "\n", "\r", "\t", "\u00a0", "é", "👍", "\u200d", "<|endoftext|>"]


def category_soup(rng):
    """Short strings from one representative of each class the patterns distinguish."""
    return "".join(rng.choice(SOUP) for _ in range(rng.randint(1, 16)))


def long_text(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice([" ", "\n", "\t", "-", "=", "a", "0"]) * rng.randint(200, 3000) + rng.choice(["", "x", " x"])
    if kind == 1:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(100, 1500)))
    if kind == 2:
        return "".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(50, 300)))
    return "\n".join(prose(rng) for _ in range(rng.randint(5, 20)))


def invalid_utf8(rng):
    """A byte string that is (almost always) not valid UTF-8."""
    bad = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3", b"\xf8\x88\x80\x80\x80", "é".encode()[:1], "中".encode()[:2]]
    parts = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.5:
            parts.append(rng.choice(bad))
        elif rng.random() < 0.5:
            parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))))
        else:
            parts.append(rng.choice(WORDS + SCRIPTS + EMOJI + [" ", "\n", "<|endoftext|>"]).encode())
    return b"".join(parts)


def mixed(rng, names):
    makers = [prose, code, whitespace, digits, contractions, scripts, emoji, random_chars]
    text = "".join(rng.choice(makers)(rng) for _ in range(rng.randint(2, 4)))
    if rng.random() < 0.2:
        text += rng.choice(names)
    return text


def cases(rng, names):
    """Yields input byte strings: fixed edge cases, then random ones from every generator."""
    fixed = ["", " ", "\n", "a", "Hello, world!", "hello world", "  leading", "trailing  ", "tab\there",
             "I'm can't we'll they're you've she'd HE'S", "don't", "1234567890", "   \n\n   ", "\r\n\r\n",
             "<|endoftext|>", "a<|endoftext|>b", " <|endofprompt|> ", "<|endoftext|><|endoftext|>",
             "👍🏽", "👨‍👩‍👧‍👦", "中文", "e\u0301", "\u0301", " \u0301a", "ǅa", "Aʰb", "'ſ", "a'ſ"]
    for text in fixed + list(names):
        yield text.encode()
    makers = [prose, code, whitespace, digits, contractions, scripts, emoji, random_chars, category_soup, category_soup]
    while True:
        roll = rng.random()
        if roll < 0.08:
            yield invalid_utf8(rng)
        elif roll < 0.14:
            yield specials(rng, names).encode()
        elif roll < 0.17:
            yield long_text(rng).encode()
        elif roll < 0.45:
            yield mixed(rng, names).encode()
        else:
            yield rng.choice(makers)(rng).encode()


def write_fixtures(name):
    encoding = load_encoding(name)
    names = sorted(ENCODINGS[name][1])
    rng = random.Random(f"{SEED}-{name}")
    path = FIXTURES / f"{name}.jsonl"
    generator = cases(rng, names)
    with path.open("w") as out:
        for _ in range(CASES_PER_ENCODING):
            raw = next(generator)
            text = raw.decode("utf-8", errors="replace")
            everything = encoding.encode(text, allowed_special="all")
            plain = encoding.encode_ordinary(text)
            record = {"in": base64.b64encode(raw).decode(), "all": everything}
            if plain != everything:
                record["plain"] = plain
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
    print(f"{path}: {CASES_PER_ENCODING} cases, {path.stat().st_size} bytes")


def bench_text(path, size=1 << 20):
    """Writes `size` bytes (whole UTF-8 scalars) of mixed prose, code, scripts and emoji."""
    rng = random.Random(SEED)
    makers = [prose, prose, prose, code, code, scripts, digits, emoji, whitespace]
    chunks, total = [], 0
    while total < size:
        chunk = rng.choice(makers)(rng) + "\n"
        chunks.append(chunk)
        total += len(chunk.encode())
    data = "".join(chunks).encode()[:size].decode("utf-8", errors="ignore")
    pathlib.Path(path).write_bytes(data.encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-text", metavar="PATH", help="write 1 MiB of benchmark text instead of fixtures")
    args = parser.parse_args()
    if args.bench_text:
        bench_text(args.bench_text)
        return
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in ENCODINGS:
        write_fixtures(name)


if __name__ == "__main__":
    main()

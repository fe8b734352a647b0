#!/usr/bin/env python3
"""Differential fixture for the `.llamaIndex` window policy, made with the real LlamaIndex.

    python3 Scripts/llamaindex-fixtures.py     # writes Tests/ChatMemoryTests/Fixtures/llamaindex-windows.jsonl

The script creates (or reuses) a virtualenv in .build-llamaindex-venv/ (git-ignored), installs
the pinned llama-index-core and tiktoken there, and re-runs itself with that interpreter. Every
case puts its messages into a `ChatMemoryBuffer` over a `SimpleChatStore` with the default
tokenizer (tiktoken cl100k_base, allowed_special="all", read from the cache llama-index-core
ships: only pip needs the network) and records `memory.get(initial_token_count=K)`. The cases
come from a fixed seed: running the script again writes the same file byte for byte.

What LlamaIndex does at the edges: K > token_limit raises ValueError (even for an empty history);
K == token_limit returns the newest message alone (no window of 2+ messages counts 0 tokens);
a negative K is accepted as extra room; token_limit < 1 is refused when the buffer is made.

The first line is {"meta": {...}}: versions, seed, case counts by category and error, and the
words that lose a token after the joining space. Every other line is a case:
    {"name": "...", "category": "...", "token_limit": N, "initial_token_count": K,
     "messages": [{"role": "user"|"assistant"|"system"|"tool", "content": null|"...",
                   "tool_calls": [{"id", "name", "arguments"}] (assistant, optional),
                   "tool_call_id": "..." (tool, optional)}],
     "expected": [indices into messages, oldest first], "tokens": T, "suffix": true}
or, instead of expected/tokens/suffix, "error": "initial_token_count_exceeds_limit" (ValueError
from get) or "token_limit_below_1" (ValueError when the buffer is made). `tokens` is LlamaIndex's
count of the returned window (its contents joined by single spaces, without K); `suffix` says
whether the window is the newest messages (it always is).
"""

import json
import os
import pathlib
import random
import subprocess
import sys

LLAMA_INDEX_CORE = "0.14.25"  # the newest 0.14 release on PyPI when the fixture was made
TIKTOKEN = "0.14.0"
SEED = 20250614

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".build-llamaindex-venv"
FIXTURE = ROOT / "Tests/ChatMemoryTests/Fixtures/llamaindex-windows.jsonl"
VENV_PYTHON = VENV / "bin" / "python"


# --- Bootstrap: run inside the pinned virtualenv --------------------------------------------

def installed_versions():
    script = ("import importlib.metadata as m, json; "
              "print(json.dumps([m.version('llama-index-core'), m.version('tiktoken')]))")
    result = subprocess.run([str(VENV_PYTHON), "-c", script], capture_output=True, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else None


def ensure_venv():
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if installed_versions() != [LLAMA_INDEX_CORE, TIKTOKEN]:
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet",
                        f"llama-index-core=={LLAMA_INDEX_CORE}", f"tiktoken=={TIKTOKEN}"], check=True)
        if installed_versions() != [LLAMA_INDEX_CORE, TIKTOKEN]:
            sys.exit(f"could not install llama-index-core {LLAMA_INDEX_CORE} and tiktoken {TIKTOKEN}")


def in_venv():
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


# --- Content generators ---------------------------------------------------------------------

WORDS = ("the of and to in is that it was for on are as with they at be this from have or by "
         "one had not but what all were when we there can an your which said if do will each "
         "about how up out them then many some so would other into has more two like time could "
         "make than first been who now people made over did down only way find use may water "
         "long little very after words called just where most know get through back much go "
         "good new write our weather city deploy cluster pod node token memory window Redis "
         "Swift Oslo Paris Tokyo").split()
# Candidates for words that lose a token when a joining space comes before them; the ones that
# really do with cl100k_base are picked at run time (see `join_sensitive`).
JOIN_CANDIDATES = ("Kubernetes Hello world Redis Swift LlamaIndex tokenizer Oslo ChatGPT OpenAI "
                   "Python JSON assistant weather question answer Thanks Sure Yes Okay function "
                   "result error message history window memory Paris Tokyo Berlin London Google Amazon "
                   "Netflix Shakespeare Einstein Wikipedia Ubuntu Linux Docker GitHub Django Hamburg "
                   "Toronto Chicago Boston Sydney Seattle Denver Stockholm Copenhagen Wisconsin Nevada").split()
WHITESPACE = [" ", "  ", "\n", "\n\n", "\t", "\r\n", " \n ", "    ", "\u00a0", "\u3000", "\u2028", "\x0b"]
SPECIALS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>",
            "<|endoftext", "endoftext|>", "<|unknown|>", "<|", "|>"]
NON_ASCII = ["café", "naïve", "Zürich", "São Paulo", "中文分词测试", "日本語のテキスト", "한국어 문장",
             "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "Привет, мир", "Γειά σου", "e\u0301",
             "\u0301", "ﬁ ß ẞ", "½ ² ①", "𝐀𝐁𝐂", "\u200d", "\ufeff"]
EMOJI = ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "1️⃣", "❤️", "🧑🏿‍💻", "😀😃😄", "🫠"]
TOOL_NAMES = ["get_weather", "search", "lookup_user", "run_sql", "f"]


def join_sensitive(tokenize):
    return [w for w in JOIN_CANDIDATES if len(tokenize(w)) > len(tokenize(" " + w))]


class Texts:
    """Random message contents; `rng` is the only source of randomness."""

    def __init__(self, rng, sensitive):
        self.rng = rng
        self.sensitive = sensitive

    def prose(self, low=1, high=25):
        rng = self.rng
        words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice([".", "?", "!", ""])

    def sensitive_text(self):
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            return rng.choice(self.sensitive)
        if kind == 1:
            return rng.choice(self.sensitive) + rng.choice(["", " ", ".", " " + rng.choice(WORDS)])
        if kind == 2:
            return " ".join(rng.choice(self.sensitive) for _ in range(rng.randint(1, 4)))
        return rng.choice(self.sensitive) + rng.choice(self.sensitive)

    def whitespace(self):
        rng = self.rng
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 5)))

    def special(self):
        rng = self.rng
        parts = [rng.choice(SPECIALS + [" ", "x", rng.choice(WORDS)]) for _ in range(rng.randint(1, 4))]
        return "".join(parts)

    def non_ascii(self):
        rng = self.rng
        return rng.choice([" ", "", "\n"]).join(rng.choice(NON_ASCII + EMOJI) for _ in range(rng.randint(1, 4)))

    def numbers(self):
        rng = self.rng
        return " ".join(str(rng.randrange(10 ** rng.randint(1, 12))) for _ in range(rng.randint(1, 4)))

    def edges(self):
        """Texts whose edges interact with the joining space."""
        rng = self.rng
        core = rng.choice([self.prose(1, 4), rng.choice(self.sensitive), rng.choice(SPECIALS), "None", "none"])
        return rng.choice(["", " ", "\n", "  ", "\t"]) + core + rng.choice(["", " ", "\n", "  ", "\n\n"])

    def json_result(self):
        rng = self.rng
        value = {"ok": rng.random() < 0.8, "value": rng.randrange(1000), "city": rng.choice(["Oslo", "Paris", "東京"])}
        if rng.random() < 0.3:
            value["items"] = [self.prose(1, 3) for _ in range(rng.randint(1, 4))]
        return json.dumps(value, ensure_ascii=rng.random() < 0.5)

    def content(self, role):
        """A message content: None, "" or text of a random kind."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            return None
        if roll < 0.12:
            return ""
        if roll < 0.18:
            return self.whitespace()
        if roll < 0.30:
            return self.sensitive_text()
        if roll < 0.36:
            return self.special()
        if roll < 0.44:
            return self.non_ascii()
        if roll < 0.48:
            return self.numbers()
        if roll < 0.56:
            return self.edges()
        if role == "tool" and roll < 0.8:
            return self.json_result()
        return self.prose()

    def big(self, tokens_wanted):
        """About `tokens_wanted` tokens of prose (a huge system prompt)."""
        rng = self.rng
        return " ".join(rng.choice(WORDS) for _ in range(tokens_wanted)) + "."


# --- Histories ------------------------------------------------------------------------------

class Histories:
    def __init__(self, rng, texts):
        self.rng = rng
        self.texts = texts
        self.calls = 0

    def message(self, role, content, tool_calls=None, tool_call_id=None):
        message = {"role": role, "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        if tool_call_id is not None:
            message["tool_call_id"] = tool_call_id
        return message

    def tool_chain(self):
        """An assistant calling 1-4 tools (usually with content None), their results, maybe a reply."""
        rng = self.rng
        calls = []
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
            self.calls += 1
            arguments = json.dumps({"q": self.texts.prose(1, 3)}) if rng.random() < 0.7 else "{}"
            calls.append({"id": f"call_{self.calls}", "name": rng.choice(TOOL_NAMES), "arguments": arguments})
        roll = rng.random()
        content = None if roll < 0.7 else ("" if roll < 0.85 else self.texts.prose(1, 8))
        chain = [self.message("assistant", content, tool_calls=calls)]
        results = list(calls)
        if rng.random() < 0.3:
            rng.shuffle(results)
        for call in results:
            chain.append(self.message("tool", self.texts.content("tool"), tool_call_id=call["id"]))
        if rng.random() < 0.6:
            chain.append(self.message("assistant", self.texts.content("assistant")))
        return chain

    def conversation(self, n):
        """At least n messages: an optional system prompt, then turns with tool chains."""
        rng = self.rng
        history = []
        if rng.random() < 0.3:
            history.append(self.message("system", self.texts.content("system")))
        while len(history) < n:
            roll = rng.random()
            if roll < 0.4:
                history.append(self.message("user", self.texts.content("user")))
            elif roll < 0.65:
                history.append(self.message("assistant", self.texts.content("assistant")))
            elif roll < 0.9:
                history.extend(self.tool_chain())
            elif roll < 0.95:
                history.append(self.message("system", self.texts.content("system")))
            else:
                self.calls += 1
                history.append(self.message("tool", self.texts.content("tool"), tool_call_id=f"call_{self.calls}"))
        return history

    def random(self, n):
        """n messages; often a fragment that starts in the middle (with a tool or assistant message)."""
        if n == 0:
            return []
        rng = self.rng
        full = self.conversation(n + (rng.randrange(6) if rng.random() < 0.5 else 0))
        start = rng.randrange(len(full) - n + 1)
        return full[start:start + n]

    def size(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return rng.randint(1, 2)
        if roll < 0.7:
            return rng.randint(3, 12)
        if roll < 0.95:
            return rng.randint(13, 40)
        return rng.randint(41, 120)


# --- Running LlamaIndex ---------------------------------------------------------------------

class LlamaIndex:
    def __init__(self):
        from llama_index.core.base.llms.types import ChatMessage, MessageRole
        from llama_index.core.memory import ChatMemoryBuffer
        from llama_index.core.storage.chat_store import SimpleChatStore
        from llama_index.core.utils import get_tokenizer

        self.ChatMessage, self.MessageRole = ChatMessage, MessageRole
        self.ChatMemoryBuffer, self.SimpleChatStore = ChatMemoryBuffer, SimpleChatStore
        self.tokenize = get_tokenizer()
        encoding = getattr(self.tokenize, "func", None)
        encoding = getattr(encoding, "__self__", None)
        if getattr(encoding, "name", None) != "cl100k_base" or self.tokenize.keywords != {"allowed_special": "all"}:
            sys.exit(f"unexpected default tokenizer: {self.tokenize!r}")

    def to_llama(self, index, message):
        kwargs = {"fixture_index": index}   # not counted: only contents are
        if "tool_calls" in message:
            kwargs["tool_calls"] = [{"id": c["id"], "type": "function",
                                     "function": {"name": c["name"], "arguments": c["arguments"]}}
                                    for c in message["tool_calls"]]
        if "tool_call_id" in message:
            kwargs["tool_call_id"] = message["tool_call_id"]
        return self.ChatMessage(role=self.MessageRole(message["role"]), content=message["content"],
                                additional_kwargs=kwargs)

    def count(self, messages):
        """`_token_count_for_messages` of ChatMemoryBuffer, for the fixture's own planning."""
        if not messages:
            return 0
        return len(self.tokenize(" ".join(str(m["content"]) for m in messages)))

    def get(self, messages, token_limit, initial_token_count):
        """What `ChatMemoryBuffer.get` returns: (indices, tokens) or an error name."""
        try:
            memory = self.ChatMemoryBuffer(token_limit=token_limit, chat_store=self.SimpleChatStore(),
                                           chat_store_key="fixture")
        except ValueError as error:
            if "Token limit must be set and greater than 0" not in str(error):
                raise
            return "token_limit_below_1"
        for index, message in enumerate(messages):
            memory.put(self.to_llama(index, message))
        try:
            window = memory.get(initial_token_count=initial_token_count)
        except ValueError as error:
            if str(error) != "Initial token count exceeds token limit":
                raise
            return "initial_token_count_exceeds_limit"
        indices = [m.additional_kwargs["fixture_index"] for m in window]
        return indices, memory._token_count_for_messages(window)


# --- Cases ----------------------------------------------------------------------------------

class Generator:
    def __init__(self, llama):
        self.llama = llama
        self.rng = random.Random(SEED)
        self.texts = Texts(self.rng, join_sensitive(llama.tokenize))
        self.histories = Histories(self.rng, self.texts)
        self.cases = []
        self.seen = set()

    def add(self, category, detail, messages, token_limit, initial):
        key = (json.dumps(messages, sort_keys=True), token_limit, initial)
        if key in self.seen:
            return
        self.seen.add(key)
        case = {"name": f"{category}-{len(self.cases):04d} {detail}", "category": category,
                "token_limit": token_limit, "initial_token_count": initial, "messages": messages}
        outcome = self.llama.get(messages, token_limit, initial)
        if isinstance(outcome, str):
            case["error"] = outcome
        else:
            indices, tokens = outcome
            case["expected"] = indices
            case["tokens"] = tokens
            case["suffix"] = indices == list(range(len(messages) - len(indices), len(messages)))
        self.cases.append(case)

    def suffix_counts(self, messages):
        return [self.llama.count(messages[len(messages) - m:]) for m in range(1, len(messages) + 1)]

    def boundaries(self, category, messages, initial, every_m):
        """Limits at the joined count of suffixes (each one, or one at random) plus K, and +-1."""
        counts = self.suffix_counts(messages)
        sizes = range(1, len(messages) + 1) if every_m else [self.rng.randint(1, len(messages))]
        for m in sizes:
            for delta in (-1, 0, 1):
                limit = counts[m - 1] + initial + delta
                if limit >= 1:
                    self.add(category, f"n={len(messages)} m={m} d={delta:+d} k={initial}", messages, limit, initial)

    def small_initial(self):
        rng = self.rng
        return rng.choice([0, 0, 0, 1, 2, 5, rng.randrange(50)])

    def fixed(self):
        """Hand-written edge cases."""
        m = self.histories.message
        # llama-index-core tests/memory/test_chat_memory_buffer.py
        u1, a1 = m("user", "first message"), m("assistant", "first answer")
        u2, a2 = m("user", "second message"), m("user", "second answer")
        for limit, initial in [(3000, 0), (1000, 5), (5, 5), (4, 5), (5, 3), (5, 1), (10, 4)]:
            self.add("fixed", f"their test file limit={limit} k={initial}", [u1, a1, u2, a2], limit, initial)
            self.add("fixed", f"their test file one message limit={limit} k={initial}", [u1], limit, initial)
        self.add("fixed", "empty history", [], 5, 0)
        self.add("fixed", "empty history k=limit", [], 5, 5)
        self.add("fixed", "empty history k>limit", [], 5, 6)
        for limit in (0, -1, -3000):
            self.add("fixed", f"token_limit={limit}", [u1], limit, 0)
        # LlamaIndex accepts a negative initial_token_count (it adds room); WindowBuilder rejects it.
        for limit, initial in [(5, -1), (4, -2), (1, -100)]:
            self.add("negative-initial", f"limit={limit} k={initial}", [u1, a1, u2, a2], limit, initial)
        for content in [None, "", " ", "\n", "None", "none", "Kubernetes", " Kubernetes", "<|endoftext|>",
                        "👨‍👩‍👧‍👦", "\u0000", "a\u0000b"]:
            for role in ["user", "assistant", "tool", "system"]:
                for limit, initial in [(1, 0), (1, 1), (2, 1), (3, 0), (3, 3), (3, 4)]:
                    tool_call_id = "call_x" if role == "tool" else None
                    self.add("fixed", f"single {role} {json.dumps(content)} limit={limit} k={initial}",
                             [m(role, content, tool_call_id=tool_call_id)], limit, initial)
        pairs = [(None, "hi"), ("", "hi"), ("hi", None), ("hi", ""), (None, None), ("", ""), ("", None),
                 ("", "Kubernetes"), (None, "Kubernetes"), ("Hello", "Kubernetes"), (" ", "Kubernetes"),
                 ("\n", "\n"), ("", "<|endoftext|>"), ("x", "<|endoftext|>")]
        for first, second in pairs:
            for roles in [("user", "user"), ("user", "assistant"), ("assistant", "user"), ("tool", "user")]:
                messages = [m(roles[0], first, tool_call_id="c" if roles[0] == "tool" else None),
                            m(roles[1], second)]
                counts = self.suffix_counts(messages)
                for limit in sorted({1, 2, 3, counts[0], counts[1], counts[1] + 1} - {0}):
                    self.add("fixed", f"pair {roles} {json.dumps([first, second])} limit={limit}", messages, limit, 0)

    def empty_strings(self):
        """Histories of "" and None contents: "" counts 0 tokens, the joining spaces do not."""
        rng = self.rng
        m = self.histories.message
        for _ in range(60):
            n = rng.randint(1, 12)
            messages = [m(rng.choice(["user", "user", "assistant", "system"]),
                          rng.choice([None, "", "", " ", "Kubernetes", "hi"])) for _ in range(n)]
            self.boundaries("empty-and-none", messages, rng.choice([0, 0, 1, 3]), every_m=n <= 6)

    def initial_sweep(self):
        """initial_token_count from 0 to past the limit on a few histories."""
        rng = self.rng
        for _ in range(14):
            messages = self.histories.random(rng.randint(1, 10))
            limit = min(40, max(1, rng.choice([1, 3, 8, 12, 20, self.llama.count(messages)])))
            for initial in range(0, limit + 3):
                self.add("initial-sweep", f"n={len(messages)} limit={limit} k={initial}", messages, limit, initial)

    def tool_chains(self):
        """Histories made of tool-call chains, often cut so they start with a tool or assistant message."""
        rng = self.rng
        for _ in range(70):
            history, target = [], rng.randint(2, 14)
            while len(history) < target:
                if rng.random() < 0.3:
                    history.append(self.histories.message("user", self.texts.content("user")))
                history.extend(self.histories.tool_chain())
            start = rng.randrange(len(history)) if rng.random() < 0.6 else 0
            messages = history[start:]
            self.boundaries("tool-chains", messages, self.small_initial(), every_m=len(messages) <= 5)

    def joining(self):
        """Contents where the joining space changes the tokenisation, and whitespace-only ones."""
        rng = self.rng
        m = self.histories.message
        for _ in range(50):
            n = rng.randint(2, 10)
            messages = []
            for _ in range(n):
                role = rng.choice(["user", "assistant", "user", "system"])
                kind = rng.randrange(5)
                content = [self.texts.sensitive_text, self.texts.whitespace, self.texts.edges,
                           self.texts.special, self.texts.non_ascii][kind]()
                messages.append(m(role, content))
            self.boundaries("joining", messages, self.small_initial(), every_m=n <= 5)

    def random_boundaries(self, count):
        for _ in range(count):
            messages = self.histories.random(self.histories.size())
            self.boundaries("boundary", messages, self.small_initial(), every_m=False)

    def random_limits(self, count):
        rng = self.rng
        for _ in range(count):
            messages = self.histories.random(self.histories.size())
            total = self.llama.count(messages)
            limit = rng.randint(1, max(1, total + 10))
            initial = rng.choice([0, 0, rng.randrange(limit + 1), limit, limit + 1, rng.randrange(limit + 5)])
            self.add("random", f"n={len(messages)} limit={limit} k={initial}", messages, limit, initial)

    def huge(self):
        """Huge system prompts, huge limits, below-the-newest limits, long histories."""
        rng = self.rng
        m = self.histories.message
        for size in (2_000, 6_000, 25_000):
            prompt = self.texts.big(size)
            messages = [m("system", prompt)] + self.histories.random(rng.randint(2, 8))
            counts = self.suffix_counts(messages)
            limits = [(counts[-1], 0), (counts[-1] - 1, 0), (counts[-2], 0), (counts[-1] + 1, 1),
                      (counts[-2] + 100, 100), (3000, 0), (10 ** 9, 0)]
            for limit, initial in limits[:3] if size > 10_000 else limits:
                self.add("huge", f"system prompt {size} words limit={limit} k={initial}", messages, limit, initial)
            self.add("huge", f"newest message of {size} words, limit below it", messages[1:] + [m("user", prompt)], 100, 0)
        for _ in range(20):
            messages = self.histories.random(rng.randint(1, 30))
            limit = rng.choice([10 ** 6, 10 ** 9, 2 ** 31, 10 ** 12, 2 ** 53])
            initial = rng.choice([0, limit // 2, limit - 1, limit])
            self.add("huge", f"limit={limit} k={initial}", messages, limit, initial)
        for _ in range(25):   # limits below the newest message's count
            messages = self.histories.random(rng.randint(1, 20))
            newest = self.llama.count(messages[-1:])
            if newest >= 2:
                limit = rng.randint(1, newest - 1)
                self.add("huge", f"limit {limit} below the newest ({newest})", messages, limit, rng.choice([0, 0, limit]))
        for _ in range(6):   # long histories
            messages = self.histories.random(rng.randint(100, 200))
            counts = self.suffix_counts(messages)
            m_cut = rng.randint(1, len(messages))
            self.add("huge", f"long n={len(messages)} cut at m={m_cut}", messages, counts[m_cut - 1], 0)
            self.add("huge", f"long n={len(messages)} all fit", messages, counts[-1], 0)

    def generate(self):
        self.fixed()
        self.empty_strings()
        self.initial_sweep()
        self.tool_chains()
        self.joining()
        self.huge()
        self.random_boundaries(150)
        self.random_limits(150)
        return self.cases


def main():
    if not in_venv():
        ensure_venv()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(pathlib.Path(__file__).resolve())] + sys.argv[1:])
    import importlib.metadata
    llama = LlamaIndex()
    cases = Generator(llama).generate()
    categories = {}
    for case in cases:
        categories[case["category"]] = categories.get(case["category"], 0) + 1
    errors = {}
    for case in cases:
        if "error" in case:
            errors[case["error"]] = errors.get(case["error"], 0) + 1
    if not all(case.get("suffix", True) for case in cases):
        sys.exit("a window that is not the newest messages: the fixture format assumes suffixes")
    meta = {"generator": "Scripts/llamaindex-fixtures.py", "seed": SEED,
            "llama_index_core": importlib.metadata.version("llama-index-core"),
            "tiktoken": importlib.metadata.version("tiktoken"), "encoding": "cl100k_base",
            "cases": len(cases), "categories": categories, "errors": errors,
            "join_sensitive_words": join_sensitive(llama.tokenize)}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    with FIXTURE.open("w", encoding="utf-8", newline="\n") as out:
        out.write(json.dumps({"meta": meta}, ensure_ascii=False, separators=(",", ":")) + "\n")
        for case in cases:
            out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{FIXTURE.relative_to(ROOT)}: {len(cases)} cases {categories}, errors {errors}, "
          f"{FIXTURE.stat().st_size} bytes (llama-index-core {meta['llama_index_core']}, tiktoken {meta['tiktoken']})")


if __name__ == "__main__":
    main()

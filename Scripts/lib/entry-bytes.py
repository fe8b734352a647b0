#!/usr/bin/env python3
"""Redis memory per chat message in other libraries' formats, for Scripts/bench-cost.sh.

    entry-bytes.py texts FILE [-n COUNT]
    entry-bytes.py llamaindex FILE
    entry-bytes.py langchain FILE
    entry-bytes.py langchain-0.3 FILE

- `texts`: writes COUNT (default 1,000) chat turns to FILE as JSON Lines
  `{"role": "user"|"assistant", "content": ...}`, roles alternating from user. The texts are
  deterministic (a fixed seed), average about 238 bytes of UTF-8, and now and then hold
  non-ASCII characters, quotes and newlines, as chat does. Needs only the standard library.
- `llamaindex`: appends every turn of FILE with `RedisChatStore.add_message` (the real
  llama-index-storage-chat-store-redis, default settings) to one key.
- `langchain`: appends every turn of FILE as `RedisChatMessageHistory.add_message` of
  langchain-community stores it: `LPUSH message_store:<id>` of `json.dumps(message_to_dict(m))`,
  `{"type": "human"|"ai", "data": m.model_dump()}`, with the fields langchain-core 1.x's
  HumanMessage and AIMessage dump for a plain text message. Written by hand with redis-py
  (langchain is not installed). `langchain-0.3`: the same with langchain-core 0.3's messages,
  which also dump `"example": false`.

The last two run on REDIS_URL in the virtualenv of Scripts/lib/llamaindex-bench.py (created on
first use) and print `entry-bytes,SIDE,messages,text_bytes,key_bytes,bytes_per_message,
mean_entry_bytes,key`: `MEMORY USAGE key SAMPLES 0` of the key, divided by the message count,
and the mean length of the stored entries.
"""

import importlib.util
import json
import os
import pathlib
import random
import sys

HERE = pathlib.Path(__file__).resolve().parent

# --- The texts ------------------------------------------------------------------------------

USER_SENTENCES = [
    "Can you help me plan a three-day trip to Lisbon in May?",
    "What's the difference between a Roth IRA and a traditional one?",
    "My sourdough keeps coming out flat. Any idea why?",
    "How do I undo the last commit without losing my changes?",
    "Is it safe to run the dishwasher with the eco setting every day?",
    "I'm writing a cover letter for a data analyst role.",
    "Could you make that shorter?",
    "Thanks! One more thing:",
    "My manager said \"just ship it\" but the tests are red.",
    "We're meeting at the Café Müller near the station, does that work?",
    "Translate \"good morning\" into Japanese, please.",
    "What does this error mean: \"connection reset by peer\"?",
    "The budget is about 1,200 € for everything.",
    "Which is better for a beginner, the guitar or the ukulele?",
    "Explain it like I'm five.",
    "Why does my Python script print None at the end?",
    "I have a meeting with São Paulo at 9am their time; what's that in Berlin?",
    "Please list the steps again, but number them.",
    "That didn't work, it still says permission denied.",
    "Can you suggest a name for a small bakery?",
    "How many grams of flour are in a cup?",
    "Write a haiku about the first snow.",
]

ASSISTANT_SENTENCES = [
    "Sure, here is a plan that keeps the walking manageable.",
    "Good question: the main difference is when you pay the tax.",
    "A flat loaf usually means the starter was not active enough when you mixed the dough.",
    "Run `git reset --soft HEAD~1`; your changes stay staged.",
    "Yes, the eco programme is designed for daily use; it just runs longer at a lower temperature.",
    "Start with the result you are proudest of, then say why the role fits you.",
    "Here is a shorter version:",
    "In short, \"connection reset by peer\" means the other side closed the connection abruptly.",
    "The usual greeting is おはようございます (ohayō gozaimasu), or just おはよう with friends.",
    "With 1,200 € you can cover flights, a modest hotel and food if you book early.",
    "For most adults the ukulele is quicker to learn: four nylon strings and small chord shapes.",
    "Your function has no return statement, so Python returns None and the print shows it.",
    "9:00 in São Paulo is 13:00 in Berlin during the northern summer.",
    "Let me know if you'd like me to adjust anything.",
    "Here are the steps:\n1. Open the settings.\n2. Choose \"Privacy\".\n3. Turn the option off.",
    "That error usually means the file belongs to another user; try `ls -l` to check its owner.",
    "A few ideas: Crumb & Co., The Rising Loaf, Fournil du Coin.",
    "One cup of all-purpose flour weighs about 120–125 g, depending on how you scoop it.",
    "white roofs at dawn —\nthe street forgets its footsteps\nunder the first snow",
    "- Day 1: Alfama and the castle\n- Day 2: Belém and the riverside\n- Day 3: a day trip to Sintra",
    "Keep the tests green before merging; a red build hides the next failure.",
    "If the meeting runs long, the café stays open until 19:00.",
    "I'd avoid mixing both accounts until you know your income for the year.",
    "Feel free to paste the full traceback and I'll take a look. 🙂",
]


def make_texts(count, seed=21):
    """COUNT turns, user first; users ask shortly, assistants answer at more length."""
    rng = random.Random(seed)
    turns = []
    for index in range(count):
        role = "user" if index % 2 == 0 else "assistant"
        pool, target = (USER_SENTENCES, rng.randint(30, 240)) if role == "user" else \
            (ASSISTANT_SENTENCES, rng.randint(115, 445))
        order = rng.sample(pool, len(pool))   # no sentence twice in one message
        parts = [order.pop()]
        while order and len(" ".join(parts).encode()) < target:
            parts.append(order.pop())
        turns.append({"role": role, "content": " ".join(parts)})
    return turns


def write_texts(path, count):
    turns = make_texts(count)
    with open(path, "w", encoding="utf-8") as file:
        for turn in turns:
            file.write(json.dumps(turn, ensure_ascii=False) + "\n")
    total = sum(len(turn["content"].encode()) for turn in turns)
    print(f"texts,{len(turns)},{total},{total / len(turns):.1f}")


def read_texts(path):
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


# --- The two formats ------------------------------------------------------------------------

def memory_figures(client, side, key, turns):
    entries = client.lrange(key, 0, -1)
    used = client.memory_usage(key, samples=0)
    client.delete(key)
    text_bytes = sum(len(turn["content"].encode()) for turn in turns)
    mean_entry = sum(len(entry) for entry in entries) / len(entries)
    print(f"entry-bytes,{side},{len(entries)},{text_bytes},{used},{used / len(entries):.1f},{mean_entry:.1f},{key}")


def llamaindex(path):
    from llama_index.core.llms import ChatMessage, MessageRole
    from llama_index.storage.chat_store.redis import RedisChatStore
    turns = read_texts(path)
    store = RedisChatStore(redis_url=os.environ["REDIS_URL"])
    key = f"bench:entry-bytes:llamaindex:{os.getpid()}"
    store.delete_messages(key)
    for turn in turns:
        role = MessageRole.USER if turn["role"] == "user" else MessageRole.ASSISTANT
        store.add_message(key, ChatMessage(role=role, content=turn["content"]))
    memory_figures(store._redis_client, "llamaindex", key, turns)


def langchain_dict(turn, example):
    """message_to_dict(HumanMessage(content)) or of AIMessage(content), field for field, in
    langchain-core 1.x (`example` False) or 0.3 (True: the messages had an `example` field)."""
    data = {"content": turn["content"], "additional_kwargs": {}, "response_metadata": {},
            "type": "human" if turn["role"] == "user" else "ai", "name": None, "id": None}
    if example:
        data["example"] = False
    if turn["role"] != "user":
        data.update(tool_calls=[], invalid_tool_calls=[], usage_metadata=None)
    return {"type": data["type"], "data": data}


def langchain(path, side):
    import redis
    turns = read_texts(path)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = f"message_store:bench-entry-bytes-{os.getpid()}"
    client.delete(key)
    for turn in turns:
        # json.dumps with its defaults (non-ASCII escaped), as add_message calls it
        client.lpush(key, json.dumps(langchain_dict(turn, example=side == "langchain-0.3")))
    memory_figures(client, side, key, turns)
    client.close()


def bootstrap():
    """Re-runs this script in the pinned virtualenv of llamaindex-bench.py, creating it if needed."""
    spec = importlib.util.spec_from_file_location("llamaindex_bench", HERE / "llamaindex-bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if not bench.in_venv():
        bench.ensure_venv()
        os.execv(str(bench.VENV_PYTHON), [str(bench.VENV_PYTHON), __file__] + sys.argv[1:])


def main(arguments):
    command, path = (arguments + ["", ""])[:2]
    if command == "texts" and path:
        count = int(arguments[arguments.index("-n") + 1]) if "-n" in arguments[:-1] else 1000
        write_texts(path, count)
    elif command in ("llamaindex", "langchain", "langchain-0.3") and path:
        bootstrap()
        llamaindex(path) if command == "llamaindex" else langchain(path, command)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])

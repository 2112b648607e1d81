"""The suite's shared fakes and runners, in one place.

- `hub`: a stand-in for the Hugging Face hub on loopback, serving the real default GGUFs.
- `servers`: llama-cpp-python's OpenAI-compatible server on loopback, and a recording proxy.
- `consent`: a scripted consent callback and a gate over a real ledger.
- `files`: documents made here (PDF pages, DOCX, e-mail, a zip bomb, a mixed corpus).
- `runners`: `carrel` as a process, `carrel` in-process, and the child processes tests kill.
- `fixtures`: the pytest fixtures more than one test folder uses (`tests/conftest.py` loads them).
"""

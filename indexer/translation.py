"""Offline English<->Spanish machine translation through persistent Apertium pipelines.

Translation lets a query in one language match passages in the other. The
`apertium` wrapper script is no good for that: it reads until end of input (so it
answers nothing until its stdin closes) and spawning its eleven stage processes
costs far more than translating one query. Instead, like apertium-apy, we parse the
pair's `.mode` file (a shell pipeline of stages), give every stage `-z` (null
flush: on reading `\\0` a stage flushes its output and writes `\\0`) and start the
chain once per direction. A request is then "write text + `\\0`, read up to the
next `\\0`" — about 2 ms for a short query once warm.

Generation runs with `-n` (what `apertium -u` does) rather than apertium-apy's
`-g`: unknown and untranslatable words then come back as plain text without the
`*`, `@` and `#` marks. Stripping the marks from `-g` output instead would also eat
literal characters (`*f` in the input comes back as `**f`, `@` marks come back
escaped like literal `@`), and on the XQuAD passages `-n` left no mark at all.

Failure is never fatal: with Apertium missing, a hung stage or a dead process the
translator returns None (callers index or search without a translation) and the
next call starts a fresh pipeline.
"""

from __future__ import annotations

import logging
import math
import os
import re
import select
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["ApertiumTranslator", "PendingTranslation", "open_translator", "pipeline_cores"]

_logger = logging.getLogger(__name__)

_DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")
_APERTIUM_CODES = {"en": "eng", "es": "spa"}
# Stages that flush on `\0` by themselves and reject `-z` (as in apertium-apy).
_NO_NULL_FLUSH_FLAG = re.compile(
    r"^([^ ]*/)?(vislcg3|cg-mwesplit|hfst-tokeni[sz]e|divvun-suggest)$"
)
# Characters with a meaning in Apertium's stream format (lttoolbox's escaped set,
# plus the `*`/`#`/`~` marks), written with a backslash so they stay literal text.
_STREAM_SPECIAL = re.compile(r"([\\\[\]$/@<>{}*#~])")
# `^` travels as this private-use character instead: lrx-proc 0.4 takes an escaped
# `\^` after the last word for the start of a word and swallows the `\0` after it.
_CARET_STANDIN = "\ue05e"
# Controls other than tab and newline confuse some stages; `\0` would end the input
# and lttoolbox reads U+FFFF as end of input, which splits one answer in two.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\uffff]")
# Every other line break becomes "\n" first, so that it too survives as a superblank.
_OTHER_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Output tokens: an escaped character, or a superblank `[...]` (how our newlines
# travel). U+FFFF is an end-of-input artefact of `lt-proc -p`, never wanted.
_OUTPUT_TOKEN = re.compile(r"\\(.)|\[((?:\\.|[^\\\]])*)\]|\uffff", re.DOTALL)
_READ_SIZE = 1 << 16
# A new pipeline's first answer also waits for its stages to start and read their
# dictionaries: about 0.25 s on a quiet machine, more than a query's 0.5-1 s
# timeout on a busy one. That wait is no sign of a hung stage, so it is added to
# the first answer's timeout. Without it, a test's warm-up under the suite's load
# timed out: the new pipeline was killed, and the query side rested that direction
# for half a minute.
_START_GRACE_S = 10.0
# Texts per lock hold in `translate_many`: a query waits at most one batch (about
# a second of passages) behind an index build in the same process.
_BATCH_SIZE = 64


class _PipelineTimeoutError(Exception):
    """No answer within the timeout; carries the outputs that did arrive."""

    def __init__(self, outputs: list[bytes]) -> None:
        super().__init__("Apertium pipeline did not answer in time")
        self.outputs = outputs


class _PipelineBrokenError(Exception):
    """A stage exited or closed its pipe. No answer of that exchange is kept: the
    stages after a dead one read its end of input, flush what they hold and write
    the `\\0` that ends an answer, so an answer read then may be cut short or empty
    ("" for "la casa grande de mi madre" with the bilingual lookup killed), and
    cached as if Apertium had translated it."""

    def __init__(self) -> None:
        super().__init__("Apertium pipeline closed")


def _parse_mode_file(mode_path: Path) -> list[list[str]]:
    """The argv of each stage, with apertium-apy's substitutions and `-z` added.

    `$1` is the generator's option (`-g` marks unknown words, `-n` does not) and
    `$2` the tagger's (`-m` to show ambiguity); the wrapper script fills both in.
    """
    stages: list[list[str]] = []
    for stage in mode_path.read_text(encoding="utf-8").strip().split("|"):
        argv = shlex.split(stage.replace("$2", "").replace("$1", "-n"))
        if not argv:
            raise ValueError(f"empty stage in Apertium mode file {mode_path}")
        if not _NO_NULL_FLUSH_FLAG.match(argv[0]):
            argv.insert(1, "-z")
        stages.append(argv)
    return stages


def _encode_input(text: str) -> bytes:
    """`text` in Apertium's stream format: specials escaped, newlines as superblanks.

    A superblank (`[...]`) passes through every stage untouched, so a line break
    survives translation instead of being folded into an ordinary space. The empty
    one at the end is needed: `lt-proc -b` (lttoolbox 3.7) does not flush on a `\\0`
    that follows a word's `$` directly, and would hold the answer until more input.
    The blank before it is needed too: the analyser drops a last word that could
    start a multiword when a superblank follows it at once ("falta de agua[]" came
    back as "Fault of", without "water"). The decoder strips the blank.
    """
    text = _CONTROL_CHARS.sub(" ", _OTHER_LINE_BREAKS.sub("\n", text))
    text = _STREAM_SPECIAL.sub(r"\\\1", text).replace("^", _CARET_STANDIN)
    text = text.replace("\n", "[\n]")
    return (text + " []").encode("utf-8", errors="replace")


def _decode_output(raw: bytes) -> str:
    """Plain text from the last stage's output: escapes undone, superblanks opened."""

    def plain(token: re.Match[str]) -> str:
        if token.group(1) is not None:
            return token.group(1)
        if token.group(2) is not None:
            return re.sub(r"\\(.)", r"\1", token.group(2), flags=re.DOTALL)
        return ""

    text = _OUTPUT_TOKEN.sub(plain, raw.decode("utf-8", errors="replace"))
    return text.replace(_CARET_STANDIN, "^").strip()


@dataclass(frozen=True, slots=True)
class _Sent:
    """A request begun by `_Pipeline.send`: its bytes (payloads, each ended by \\0),
    how many of them the first stage's pipe took, and how many answers are due."""

    request: memoryview
    written: int
    count: int


class _Pipeline:
    """One direction's running chain of stage processes, fed and read by one thread."""

    def __init__(self, stages: list[list[str]], *, cpu: int | None = None) -> None:
        """`cpu`: run every stage on that core (`ApertiumTranslator`'s `pipeline_cpus`)."""
        self.processes: list[subprocess.Popen[bytes]] = []
        self._exits: _ExitWatch | None = None  # set once every stage runs
        self._pending = bytearray()  # output read past the last `\0`
        self._answered = False  # until the first answer: its stages may still be starting
        try:
            upstream: int | None = subprocess.PIPE
            for argv in stages:
                process = subprocess.Popen(
                    argv,
                    stdin=upstream,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,  # a terminal's Ctrl-C must not kill stages
                )
                if cpu is not None:
                    _pin(process.pid, cpu)
                if self.processes and self.processes[-1].stdout is not None:
                    self.processes[-1].stdout.close()  # the next stage owns it now
                upstream = process.stdout.fileno() if process.stdout is not None else None
                self.processes.append(process)
        except BaseException:
            self.kill()
            raise
        first_stdin, last_stdout = self.processes[0].stdin, self.processes[-1].stdout
        assert first_stdin is not None and last_stdout is not None
        self._stdin_fd, self._stdout_fd = first_stdin.fileno(), last_stdout.fileno()
        os.set_blocking(self._stdin_fd, False)
        os.set_blocking(self._stdout_fd, False)
        # One poll object for the pipeline's life: a selector per exchange cost an
        # epoll instance made, registered and closed each time (~0.1 ms of a query's
        # translation, on its critical path).
        self._poller = select.poll()
        self._poller.register(self._stdout_fd, select.POLLIN)
        self._exits = _ExitWatch.of(self.processes)

    def alive(self) -> bool:
        """No stage has exited: one poll of the stages' pidfds where the system has
        them (`_ExitWatch`), else a `waitpid` per stage. Asked twice per translation."""
        if self._exits is not None:
            return not self._exits.any_exited()
        return all(process.poll() is None for process in self.processes)

    def send(self, payloads: Sequence[bytes]) -> _Sent:
        """Write what the first stage's pipe takes now (a query's few bytes: all of
        it); `receive` writes the rest and reads the answers. Until then the caller
        may do other work while the stages translate."""
        request = memoryview(b"".join(payload + b"\0" for payload in payloads))
        return _Sent(request, self._write(request, 0), len(payloads))

    def receive(self, sent: _Sent, *, timeout_s: float) -> list[bytes]:
        """The output for each payload `sent`, in order.

        Writing everything before reading would deadlock once the pipes' buffers
        fill, so one poll loop writes the rest and reads. `timeout_s` bounds the
        wait for each answer, not the whole batch; the pipeline's very first
        answer may take `_START_GRACE_S` longer.
        """
        request, written = sent.request, sent.written
        outputs: list[bytes] = []
        writing = written < len(request)
        if writing:
            self._poller.register(self._stdin_fd, select.POLLOUT)
        try:
            deadline = time.monotonic() + timeout_s + (0.0 if self._answered else _START_GRACE_S)
            while len(outputs) < sent.count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _PipelineTimeoutError(outputs)
                for fd, _ in self._poller.poll(math.ceil(remaining * 1000)):
                    if fd == self._stdin_fd:
                        written = self._write(request, written)
                        if written == len(request):
                            self._poller.unregister(self._stdin_fd)
                            writing = False
                        continue
                    try:
                        chunk = os.read(self._stdout_fd, _READ_SIZE)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise _PipelineBrokenError
                    self._pending += chunk
                    while (end := self._pending.find(b"\0")) >= 0:
                        outputs.append(bytes(self._pending[:end]))
                        del self._pending[: end + 1]
                        self._answered = True
                        deadline = time.monotonic() + timeout_s
        finally:
            if writing:
                self._poller.unregister(self._stdin_fd)
        if not self.alive():  # the answers may be a dying stage's flush (12 us to ask)
            raise _PipelineBrokenError
        return outputs

    def _write(self, request: memoryview, written: int) -> int:
        """`written` plus what the first stage's pipe took now (non-blocking)."""
        try:
            return written + os.write(self._stdin_fd, request[written:])
        except BlockingIOError:
            return written
        except OSError as error:  # BrokenPipeError: the first stage died
            raise _PipelineBrokenError from error

    def kill(self) -> None:
        """Kill and reap every stage (SIGKILL also ends a stopped process)."""
        if self._exits is not None:
            self._exits.close()
            self._exits = None  # `alive` asks the reaped processes from now on
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
            process.wait()


class _ExitWatch:
    """Whether any of a pipeline's stages has exited, in one system call: a Linux
    pidfd (`os.pidfd_open`, kernel 5.3+) reads as ready once its process exits,
    so one `poll` with no wait asks all of a direction's 10-11 stages at once.
    `Popen.poll` asks with a `waitpid` each, and each call lets go of the GIL and
    takes it back: 20-22 hand-overs per translation (19 us), and with 4 requests
    at once every retake can wait on another request's Python (under 4 clients,
    6% of a search's wall time was spent there, py-spy)."""

    def __init__(self, pidfds: list[int]) -> None:
        self._pidfds = pidfds
        self._poller = select.poll()
        for pidfd in pidfds:
            self._poller.register(pidfd, select.POLLIN)

    @classmethod
    def of(cls, processes: Sequence[subprocess.Popen[bytes]]) -> _ExitWatch | None:
        """A watch over `processes`, or None where pidfds are not to be had (not
        Linux, an older kernel, a stage gone already): `Popen.poll` then."""
        pidfds: list[int] = []
        try:
            for process in processes:
                pidfds.append(os.pidfd_open(process.pid))
        except (AttributeError, OSError):
            for pidfd in pidfds:
                os.close(pidfd)
            return None
        return cls(pidfds)

    def any_exited(self) -> bool:
        return bool(self._poller.poll(0))

    def close(self) -> None:
        for pidfd in self._pidfds:
            os.close(pidfd)
        self._pidfds = []


def _pin(pid: int, cpu: int) -> None:
    """Keep process `pid` on core `cpu`; where that is refused, it runs anywhere."""
    try:
        os.sched_setaffinity(pid, {cpu})
    except (OSError, AttributeError) as error:  # a stage already gone; not Linux
        _logger.debug("could not keep Apertium stage %d on core %d: %s", pid, cpu, error)


def pipeline_cores(index: int) -> tuple[int, int] | None:
    """Cores for the `index`-th query translator's (eng-spa, spa-eng) pipelines: the
    two directions on different cores, the next translator's turned around, so a
    pool spreads over the cores this process may use. None on one core (or where
    the affinity cannot be read): nothing to choose."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (OSError, AttributeError):
        return None
    if len(cores) < 2:
        return None
    return cores[index % len(cores)], cores[(index + 1) % len(cores)]


class PendingTranslation:
    """A translation under way (`ApertiumTranslator.start`): `result()` waits for it,
    once; later calls return the same."""

    def __init__(
        self,
        receive: Callable[[], list[bytes]],
        *,
        release: Callable[[], None],
        core: int | None = None,
    ) -> None:
        self.core = core  # the core its pipeline's stages run on, if they were kept to one
        self._receive: Callable[[], list[bytes]] | None = receive
        self._release = release
        self._result: str | None = None

    def result(self) -> str | None:
        """The translation, or None if Apertium failed or timed out."""
        receive, self._receive = self._receive, None
        if receive is not None:
            try:
                outputs = receive()
            finally:
                self._release()
            self._result = _decode_output(outputs[0]) if outputs else None
        return self._result


class ApertiumTranslator:
    """Thread-safe en<->es translator; `translate` returns None whenever Apertium can't help.

    Each direction starts its pipeline on first use and serialises requests with
    its own lock, so the two directions run in parallel. `timeout_s` bounds the
    wait for the lock and for each answer (a new pipeline's first answer may take
    `_START_GRACE_S` longer, while its stages start); a pipeline that misses it
    is killed.
    Pipelines are not fork-safe: build the translator in the process that uses it.
    Tests reach the stage processes through `_pipelines["eng-spa"].processes`.
    """

    def __init__(
        self,
        *,
        modes_dir: Path = _DEFAULT_MODES_DIR,
        timeout_s: float = 5.0,
        pipeline_cpus: tuple[int, int] | None = None,
    ) -> None:
        """`pipeline_cpus`: the cores of the (eng-spa, spa-eng) pipelines, each one's
        stages all on its core (`pipeline_cores`). For a query's few words: a stage
        hands its output to the next through a pipe, and a hand-off to a process
        on the other core costs a cross-core wake-up (a hypervisor exit on a virtual
        machine). Measured on 300 XQuAD English questions, with a query being
        encoded on the other thread meanwhile as a search does: 4.25 -> 3.35 ms p50
        (alone 3.35 -> 3.06). None (an index build's batches): the stages run on
        any core, in parallel on a batch's texts."""
        self._modes_dir = modes_dir
        self._timeout_s = timeout_s
        self._cpus = dict(zip(("eng-spa", "spa-eng"), pipeline_cpus or (None, None), strict=True))
        self._locks = {direction: threading.Lock() for direction in ("eng-spa", "spa-eng")}
        self._pipelines: dict[str, _Pipeline | None] = dict.fromkeys(self._locks)
        self._available: bool | None = None
        self._closed = False

    @staticmethod
    def is_available(modes_dir: Path = _DEFAULT_MODES_DIR) -> bool:
        """Both directions' mode files exist and every stage's program is on PATH."""
        for direction in ("eng-spa", "spa-eng"):
            mode_path = modes_dir / f"{direction}.mode"
            try:
                stages = _parse_mode_file(mode_path)
            except (OSError, ValueError):
                return False
            if not all(shutil.which(argv[0]) for argv in stages):
                return False
        return True

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        """`text` translated, or None if Apertium is missing, failed or timed out."""
        return self.translate_many([text], source=source, target=target)[0]

    def translate_many(self, texts: Sequence[str], *, source: str, target: str) -> list[str | None]:
        """One translation (or None) per text, streamed through the pipeline in batches.

        Blank texts translate to "" without touching Apertium. A batch that times
        out gets None for its unanswered texts; the next batch starts a new pipeline.
        """
        direction = self._direction(source, target)
        results: list[str | None] = [None if text.strip() else "" for text in texts]
        todo = [index for index, text in enumerate(texts) if text.strip()]
        if todo and not self._check_available():
            return [None] * len(texts)
        for start in range(0, len(todo), _BATCH_SIZE):
            batch = todo[start : start + _BATCH_SIZE]
            outputs = self._translate_batch(direction, [_encode_input(texts[i]) for i in batch])
            for index, output in zip(batch, outputs, strict=False):
                results[index] = _decode_output(output)
        return results

    def start(self, text: str, *, source: str, target: str) -> PendingTranslation | None:
        """`text` sent into its direction's pipeline now; `result()` reads the answer.

        The caller works while the stages translate: a search embeds an English
        query meanwhile, on the same thread, instead of handing the translation to
        another thread and waiting for it to wake (`search.query_translation`).
        The direction is held until `result()`, which the caller must call. None,
        without waiting, where `translate` would have to wait or cannot help: the
        direction busy, Apertium missing, the pipeline broken, `text` blank.
        """
        direction = self._direction(source, target)
        if not text.strip() or not self._check_available():
            return None
        lock = self._locks[direction]
        if not lock.acquire(blocking=False):
            return None
        try:
            if self._closed:
                raise _PipelineBrokenError
            payload = _encode_input(text)
            pipeline = self._running_pipeline(direction)
            sent = (pipeline, pipeline.send([payload]))
        except (_PipelineBrokenError, OSError):  # `translate` restarts it and logs
            lock.release()
            return None
        return PendingTranslation(
            lambda: self._exchange_locked(direction, [payload], sent),
            release=lock.release,
            core=self._cpus[direction],
        )

    def close(self) -> None:
        """Stop both pipelines; later calls return None."""
        self._closed = True
        for direction, lock in self._locks.items():
            with lock:
                pipeline = self._pipelines[direction]
                self._pipelines[direction] = None
                if pipeline is not None:
                    pipeline.kill()

    def __enter__(self) -> ApertiumTranslator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _direction(self, source: str, target: str) -> str:
        if source not in _APERTIUM_CODES or target not in _APERTIUM_CODES or source == target:
            raise ValueError(
                f"Unsupported translation pair {source!r}->{target!r}; "
                "use source='en', target='es' or source='es', target='en'."
            )
        return f"{_APERTIUM_CODES[source]}-{_APERTIUM_CODES[target]}"

    def _check_available(self) -> bool:
        if self._available is None:
            self._available = self.is_available(self._modes_dir)
            if not self._available:
                _logger.warning(
                    "Apertium eng-spa/spa-eng not found under %s; translation is off"
                    " (install it with: apt-get install apertium-eng-spa)",
                    self._modes_dir,
                )
        return self._available and not self._closed

    def _translate_batch(self, direction: str, payloads: list[bytes]) -> list[bytes]:
        """Raw outputs for `payloads`, fewer (the first ones only) on failure.

        A pipeline found broken (a stage died since the last call) is restarted
        and the unanswered payloads are sent once more.
        """
        lock = self._locks[direction]
        if not lock.acquire(timeout=self._timeout_s):
            _logger.warning(
                "Apertium %s busy for over %.1f s; not translating", direction, self._timeout_s
            )
            return []
        try:
            return [] if self._closed else self._exchange_locked(direction, payloads)
        finally:
            lock.release()

    def _exchange_locked(
        self,
        direction: str,
        payloads: list[bytes],
        sent: tuple[_Pipeline, _Sent] | None = None,
    ) -> list[bytes]:
        """`sent`: the payloads already sent into that pipeline (`start`). A broken
        pipeline gives no answers (`_PipelineBrokenError`), so a second attempt sends
        every payload again; a timeout keeps the answers that came before it."""
        for attempt in (1, 2):
            try:
                if sent is not None and attempt == 1:
                    pipeline, request = sent
                else:
                    pipeline = self._running_pipeline(direction)
                    request = pipeline.send(payloads)
                return pipeline.receive(request, timeout_s=self._timeout_s)
            except _PipelineBrokenError:
                self._stop(direction)
                if attempt == 2:
                    _logger.warning(
                        "Apertium %s pipeline keeps closing; not translating", direction
                    )
            except _PipelineTimeoutError as error:
                self._stop(direction)
                _logger.warning(
                    "Apertium %s gave no answer within %.1f s; killed it (%d of %d texts done)",
                    direction,
                    self._timeout_s,
                    len(error.outputs),
                    len(payloads),
                )
                return error.outputs
            except OSError as error:
                self._stop(direction)
                _logger.warning("Apertium %s failed: %s", direction, error)
                break
        return []

    def _running_pipeline(self, direction: str) -> _Pipeline:
        pipeline = self._pipelines[direction]
        if pipeline is not None and not pipeline.alive():
            self._stop(direction)
            pipeline = None
        if pipeline is None:
            stages = _parse_mode_file(self._modes_dir / f"{direction}.mode")
            pipeline = self._pipelines[direction] = _Pipeline(stages, cpu=self._cpus[direction])
        return pipeline

    def _stop(self, direction: str) -> None:
        pipeline = self._pipelines[direction]
        self._pipelines[direction] = None
        if pipeline is not None:
            pipeline.kill()


def open_translator(
    setting: str, *, timeout_s: float = 5.0, pipeline_cpus: tuple[int, int] | None = None
) -> ApertiumTranslator | None:
    """The translator a setting asks for: "off" none, "auto" one where Apertium is
    installed, "on" one or a `SettingsError` saying how to install it."""
    if setting == "off":
        return None
    if ApertiumTranslator.is_available():
        return ApertiumTranslator(timeout_s=timeout_s, pipeline_cpus=pipeline_cpus)
    if setting == "on":
        from indexer.errors import SettingsError

        raise SettingsError(
            "Translation is 'on' but Apertium is not installed. Install the Debian packages "
            "apertium and apertium-eng-spa (make setup does), or use 'auto'."
        )
    return None

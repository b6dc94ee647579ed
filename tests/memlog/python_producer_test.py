"""The Python producer (memlog/python/kappa_log.py) appending to logs that the kappa program
creates, declares types for and reads back.

ctest runs it with KAPPA_LOG_LIB (libkappa_log.so), KAPPA_BINARY (the kappa program) and
PYTHONPATH (memlog/python) set.
"""

import json
import os
import shutil
import subprocess
import unittest

import kappa_log

KAPPA = os.environ["KAPPA_BINARY"]


class PythonProducerTest(unittest.TestCase):
    def setUp(self):
        self.dir = "/dev/shm/kappa-test-pylog-%d-%s" % (os.getpid(), self._testMethodName)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.mkdir(self.dir)
        self.path = os.path.join(self.dir, "clicks")
        self.kappa("log", "create", self.path, "--capacity", "1M")
        self.kappa("log", "schema", self.path, "add", "click", "user:i64", "page:string16",
                   "ms:f64", "n:u64", "note:tail")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def kappa(self, *args, status=0):
        done = subprocess.run([KAPPA, *args], capture_output=True, text=True)
        self.assertEqual(done.returncode, status, done.stderr)
        return done

    def dump(self):
        out = self.kappa("log", "dump", self.path, "--format", "jsonl").stdout
        return [json.loads(line) for line in out.splitlines()]

    def test_appends_bytes_and_dicts_encoded_through_the_catalog(self):
        with kappa_log.open(self.path) as log:
            self.assertEqual(log.append(b"raw\nbytes", type=5), 0)
            offset = log.append({"user": -7, "page": "h\u00e9", "ms": 2.5, "n": 2 ** 64 - 1,
                                 "ignored": True}, type="click")
            self.assertGreater(offset, 0)
            log.append({"user": 1, "page": "", "ms": 3, "n": 0, "note": "a tail"}, type=1,
                       timestamp_ns=1_700_000_000_000_000_000)
            self.assertEqual(log.append_batch([{"user": i, "page": "p%d" % i, "ms": 0.5, "n": i}
                                               for i in range(100)], type="click"), 100)
            info = log.info()
            self.assertEqual(info["records_appended"], 103)
            self.assertEqual(info["path"], self.path)
        records = self.dump()
        self.assertEqual(len(records), 103)
        self.assertEqual(records[0]["type"], 5)
        self.assertEqual(records[0]["payload"], "raw\nbytes")
        self.assertEqual({k: records[1][k] for k in ("kind", "user", "page", "ms", "n", "note")},
                         {"kind": "click", "user": -7, "page": "h\u00e9", "ms": 2.5,
                          "n": 2 ** 64 - 1, "note": ""})
        self.assertEqual(records[2]["note"], "a tail")
        self.assertEqual(records[2]["timestamp_ns"], 1_700_000_000_000_000_000)
        self.assertEqual([r["user"] for r in records[3:]], list(range(100)))
        # A batch is appended all at once: one timestamp for all of it.
        self.assertEqual(len({r["timestamp_ns"] for r in records[3:]}), 1)

    def test_names_the_field_that_does_not_fit(self):
        cases = [
            ({"user": 1, "page": "x", "ms": 1.0}, "click: field 'n' is missing"),
            ({"user": "1", "page": "x", "ms": 1.0, "n": 0},
             "click: field 'user' holds an integer (i64), not '1'"),
            ({"user": 2 ** 63, "page": "x", "ms": 1.0, "n": 0}, "(out of range)"),
            ({"user": 1, "page": "x", "ms": 1.0, "n": -1}, "field 'n' holds an integer (u64)"),
            ({"user": 1, "page": "seventeen bytes!!", "ms": 1.0, "n": 0},
             "click: field 'page' holds at most 16 bytes, not 17"),
            ({"user": True, "page": "x", "ms": 1.0, "n": 0}, "field 'user' holds an integer"),
        ]
        with kappa_log.open(self.path) as log:
            for record, message in cases:
                with self.assertRaises(kappa_log.LogError) as caught:
                    log.append(record, type="click")
                self.assertIn(message, str(caught.exception))
                self.assertEqual(caught.exception.status, kappa_log.BAD_ARGUMENT)
            with self.assertRaises(kappa_log.LogError) as caught:
                log.append({"a": 1}, type="clack")
            self.assertIn("has no type 'clack' (it has: click)", str(caught.exception))
            with self.assertRaises(kappa_log.LogError) as caught:
                log.append({"a": 1}, type=3)
            self.assertIn("a dict needs a type the catalog names", str(caught.exception))
            with self.assertRaises(kappa_log.LogError):
                log.append(b"x", type=0xFF00)
            with self.assertRaises(kappa_log.LogError) as caught:
                log.append(b"x" * (1 << 19))
            self.assertEqual(caught.exception.status, kappa_log.TOO_LARGE)
            # A batch with one bad record appends none of it.
            with self.assertRaises(kappa_log.LogError):
                log.append_batch([{"user": 1, "page": "a", "ms": 1.0, "n": 1}, {"user": 1}],
                                 type="click")
        self.assertEqual(self.dump(), [])

    def test_reports_a_missing_log_and_a_full_one(self):
        with self.assertRaises(kappa_log.LogError) as caught:
            kappa_log.open(os.path.join(self.dir, "missing"))
        self.assertIn("missing", str(caught.exception))
        self.assertEqual(caught.exception.status, kappa_log.ERROR)
        full = os.path.join(self.dir, "small")
        self.kappa("log", "create", full, "--capacity", "16K")
        self.kappa("log", "tail", full, "--cursor", "slow", "--from", "earliest", "--count", "0")
        with kappa_log.open(full) as log:
            with self.assertRaises(kappa_log.LogError) as caught:
                for _ in range(100):
                    log.append(b"r" * 1000, timeout=0.05)
            self.assertEqual(caught.exception.status, kappa_log.FULL)
        log = kappa_log.open(full)
        log.close()
        with self.assertRaises(kappa_log.LogError):
            log.append(b"closed")


if __name__ == "__main__":
    unittest.main()

"""The Python reader (serving/python/kappa_view.py) reading views that a C++ process wrote.

ctest runs it with KAPPA_VIEW_LIB (libkappa_view.so), KAPPA_TEST_FIXTURE (the C++ program that
writes tests/serving/fixture_views.h) and PYTHONPATH (serving/python) set.
"""

import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

import kappa_view

FIXTURE = os.environ["KAPPA_TEST_FIXTURE"]


class PythonReaderTest(unittest.TestCase):
    def setUp(self):
        self.ns = "/dev/shm/kappa-test-pyviews-%d-%s" % (os.getpid(), self._testMethodName)
        shutil.rmtree(self.ns, ignore_errors=True)
        self.fixture("create")

    def tearDown(self):
        shutil.rmtree(self.ns, ignore_errors=True)

    def fixture(self, *args):
        done = subprocess.run([FIXTURE, self.ns, *args], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_keyed_rows_by_field_name_with_offsets(self):
        with kappa_view.open("counts", ns=self.ns) as v:
            self.assertEqual(v.get(7), {"id": 7, "count": 21, "ratio": 1.75, "label": "k7", "offset": 1007})
            self.assertIsNone(v.get(1000))
            info = v.info()
            self.assertEqual(info["kind"], "keyed")
            self.assertEqual(info["applied_offset"], 5000)
            self.assertEqual(info["watermark_ns"], 777)
            self.assertEqual(info["entries"], 100)
            self.assertEqual(info["shard_count"], 1)
            self.assertEqual(info["fields"], [("count", "i64", 8), ("ratio", "f64", 8), ("label", "string", 12)])
            self.assertFalse(info["writer_alive"])  # the writing process has exited
            rows = v.scan()
            self.assertEqual(sorted(r["id"] for r in rows), list(range(100)))
            self.assertTrue(all(r["count"] == 3 * r["id"] and r["offset"] == 1000 + r["id"] for r in rows))

    def test_bytes_keys(self):
        with kappa_view.open("users", ns=self.ns) as v:
            self.assertEqual(v.get("alice")["label"], "Alice")
            self.assertEqual(v.get(b"bob")["count"], 2)
            self.assertIsNone(v.get("carol"))
            with self.assertRaises(kappa_view.ViewError) as e:
                v.get(5)  # a u64 key for a bytes-keyed view
            self.assertEqual(e.exception.status, kappa_view.WRONG_KIND)
            with self.assertRaises(kappa_view.ViewError) as e:
                v.get("x" * 40)  # longer than the key size
            self.assertEqual(e.exception.status, kappa_view.BAD_ARGUMENT)

    def test_windows(self):
        with kappa_view.open("win", ns=self.ns) as v:
            windows = v.windows(7)
            self.assertEqual([(w["window_start"], w["count"]) for w in windows], [(0, 1), (10, 2), (20, 3)])
            self.assertEqual(windows[0]["auction"], 7)
            self.assertEqual(v.get(7, window_start=10)["count"], 2)
            self.assertIsNone(v.get(7, window_start=30))
            self.assertEqual(v.windows(8), [])

    def test_top_k_and_list(self):
        with kappa_view.open("top", ns=self.ns) as v:
            self.assertEqual([(r["rank"], r["key"], r["count"]) for r in v.top()],
                             [(0, 5, 50), (1, 4, 40), (2, 3, 30)])
        with kappa_view.open("rows", ns=self.ns) as v:
            rows, next_index = v.rows()
            self.assertEqual([(r["index"], r["label"], r["ratio"]) for r in rows],
                             [(i, "row %d" % i, i / 2) for i in range(5)])
            self.assertEqual(next_index, 5)
            rows, next_index = v.rows(start=3, limit=1)
            self.assertEqual([r["count"] for r in rows], [3])
            self.assertEqual(next_index, 4)

    def test_follows_flips_and_reverts(self):
        with kappa_view.open("counts", ns=self.ns) as follower, \
                kappa_view.open("counts@1", ns=self.ns) as pinned:
            self.assertEqual(follower.get(2)["count"], 6)
            self.fixture("second-version")
            self.assertEqual(follower.get(2)["count"], 6)  # not current until flipped
            self.fixture("flip", "2")
            self.assertEqual(follower.get(2)["count"], 7)
            self.assertEqual(follower.info()["version"], 2)
            self.assertEqual(pinned.get(2)["count"], 6)
            self.fixture("revert")
            self.assertEqual(follower.get(2)["count"], 6)

    def test_a_view_is_a_read_only_mapping(self):
        with kappa_view.open("counts", ns=self.ns) as v:
            self.assertEqual(len(v), 100)
            self.assertIn(7, v)
            self.assertNotIn(1000, v)
            self.assertNotIn("seven", v)
            self.assertEqual(v[7]["count"], 21)
            with self.assertRaises(KeyError):
                v[1000]
            self.assertEqual(sorted(v), list(range(100)))
            self.assertEqual(sorted(v.keys()), list(range(100)))
            self.assertEqual(sorted(r["count"] for r in v.values()), [3 * i for i in range(100)])
            self.assertEqual(dict(v.items())[9]["label"], "k9")
            self.assertEqual((v.applied_offset, v.watermark, v.version, v.kind), (5000, 777, 1, "keyed"))
            with self.assertRaises(kappa_view.ViewError) as e:
                v["seven"]
            self.assertIn("counts has integer keys (id), not 'seven'", str(e.exception))
        with kappa_view.open("win", ns=self.ns) as v:
            self.assertEqual(sorted(v), [(7, 0), (7, 10), (7, 20)])
            self.assertEqual(v[7, 10]["count"], 2)
            self.assertIn((7, 20), v)
            self.assertNotIn((7, 30), v)
            with self.assertRaises(kappa_view.ViewError) as e:
                v[7]
            self.assertIn("win is windowed", str(e.exception))
            with self.assertRaises(kappa_view.ViewError) as e:
                v.get(7)
            self.assertEqual(str(e.exception), "win is windowed: pass window_start= or use windows(key)")
        with kappa_view.open("top", ns=self.ns) as v:
            self.assertEqual(len(v), 3)
            self.assertEqual(v[0]["key"], 5)
            self.assertEqual(list(v), [0, 1, 2])
            self.assertNotIn(3, v)
        with kappa_view.open("rows", ns=self.ns) as v:
            self.assertEqual(len(v), 5)
            self.assertEqual(v[3]["label"], "row 3")
            self.assertEqual(list(v), [0, 1, 2, 3, 4])
            with self.assertRaises(KeyError):
                v[5]

    def test_streams_a_scan_a_chunk_at_a_time(self):
        with kappa_view.open("counts", ns=self.ns) as v:
            for chunk in (1, 7, 100, 4096):
                rows = list(v.iter_rows(chunk=chunk))
                self.assertEqual(sorted(r["id"] for r in rows), list(range(100)), chunk)
            stream = v.iter_rows(chunk=10)
            first = next(stream)  # a generator: nothing is read past the first chunk yet
            self.assertIn(first["id"], range(100))
        with kappa_view.open("rows", ns=self.ns) as v:
            self.assertEqual([r["index"] for r in v.iter_rows(chunk=2)], [0, 1, 2, 3, 4])
        with kappa_view.open("top", ns=self.ns) as v:
            self.assertEqual([r["rank"] for r in v.iter_rows(chunk=2)], [0, 1, 2])

    def test_waits_for_an_offset(self):
        with kappa_view.open("counts", ns=self.ns) as v:
            self.assertTrue(v.wait_for(4999))
            self.assertFalse(v.wait_for(5000, timeout=0.05))
            done = threading.Event()
            result = []

            def wait():
                result.append(v.wait_for(6000, timeout=60))
                done.set()

            waiter = threading.Thread(target=wait)
            waiter.start()
            time.sleep(0.1)
            self.assertFalse(done.is_set())  # still waiting: 6000 is not applied
            self.fixture("progress", "6001")
            waiter.join(60)
            self.assertEqual(result, [True])

    def test_columns(self):
        if os.environ.get("KAPPA_NO_NUMPY"):
            self.skipTest("NumPy is left out of this build's run")
        try:
            import numpy
        except ImportError:
            if os.environ.get("KAPPA_REQUIRE_NUMPY"):
                raise
            self.skipTest("NumPy is not installed")
        with kappa_view.open("counts", ns=self.ns) as v:
            columns = v.to_numpy()
            self.assertEqual(list(columns), ["id", "count", "ratio", "label", "offset"])
            order = numpy.argsort(columns["id"])
            self.assertEqual(columns["id"][order].tolist(), list(range(100)))
            self.assertEqual(columns["count"].dtype, numpy.int64)
            self.assertEqual(columns["count"][order].tolist(), [3 * i for i in range(100)])
            self.assertEqual(columns["ratio"][order][8], 2.0)
            self.assertEqual(columns["label"][order][9], "k9")
        with kappa_view.open("win", ns=self.ns) as v:
            self.assertEqual(sorted(v.to_numpy()["window_start"].tolist()), [0, 10, 20])

    def test_errors(self):
        with self.assertRaises(kappa_view.ViewError) as e:
            kappa_view.open("nope", ns=self.ns)
        self.assertEqual(e.exception.status, kappa_view.ERROR)
        self.assertIn("nope", str(e.exception))
        with self.assertRaises(kappa_view.ViewError):
            kappa_view.open("counts", ns=self.ns + "-missing")
        with kappa_view.open("counts", ns=self.ns) as v:
            with self.assertRaises(kappa_view.ViewError) as e:
                v.top()
            self.assertEqual(e.exception.status, kappa_view.WRONG_KIND)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

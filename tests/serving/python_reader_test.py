"""The Python reader (serving/python/kappa_view.py) reading views that a C++ process wrote.

ctest runs it with KAPPA_VIEW_LIB (libkappa_view.so), KAPPA_TEST_FIXTURE (the C++ program that
writes tests/serving/fixture_views.h) and PYTHONPATH (serving/python) set.
"""

import os
import shutil
import subprocess
import sys
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

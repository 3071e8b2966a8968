"""The one file cache: load once per file version, reload when the file changes."""
import os
import threading

import pytest

from engine.file_cache import FileCache, file_version


def _counting_loader(calls):
    def load(path):
        calls.append(path)
        return path.read_text()
    return load


def test_an_unchanged_file_is_loaded_once(tmp_path):
    path = tmp_path / "model.bin"
    path.write_text("one")
    calls, cache = [], FileCache()
    load = _counting_loader(calls)
    assert cache.get(path, load) == "one"
    assert cache.get(str(path), load) == "one"
    assert cache.get(tmp_path / "." / "model.bin", load) == "one"  # the same file
    assert len(calls) == 1


def test_a_rewritten_file_is_loaded_again(tmp_path):
    path = tmp_path / "model.bin"
    path.write_text("one")
    calls, cache = [], FileCache()
    load = _counting_loader(calls)
    cache.get(path, load)
    path.write_text("two!")  # another size
    assert cache.get(path, load) == "two!"
    path.write_text("six!")  # same size, later modification time
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10 ** 9))
    assert cache.get(path, load) == "six!"
    assert len(calls) == 3


def test_a_missing_file_is_handed_to_the_loader_and_not_cached(tmp_path):
    def load(path):
        raise FileNotFoundError(f"{path}: no such model")

    with pytest.raises(FileNotFoundError, match="no such model"):
        FileCache().get(tmp_path / "absent.bin", load)
    with pytest.raises(OSError):
        file_version(tmp_path / "absent.bin")


def test_the_oldest_version_goes_beyond_max_entries(tmp_path):
    paths = [tmp_path / f"m{k}.bin" for k in range(3)]
    for path in paths:
        path.write_text(path.name)
    calls, cache = [], FileCache(max_entries=2)
    load = _counting_loader(calls)
    cache.get(paths[0], load)
    cache.get(paths[1], load)
    cache.get(paths[0], load)  # m0 is now the most recently used
    cache.get(paths[2], load)  # so m1 goes
    assert len(cache) == 2 and len(calls) == 3
    cache.get(paths[0], load)
    assert len(calls) == 3
    cache.get(paths[1], load)
    assert len(calls) == 4
    with pytest.raises(ValueError):
        FileCache(max_entries=0)


def test_threads_asking_for_one_file_load_it_once(tmp_path):
    path = tmp_path / "model.bin"
    path.write_text("one")
    calls, cache = [], FileCache()
    load = _counting_loader(calls)
    threads = [threading.Thread(target=cache.get, args=(path, load)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_an_object_made_from_several_files_is_made_again_when_any_changes(tmp_path):
    config, weights = tmp_path / "config.json", tmp_path / "weights.bin"
    config.write_text("{}")
    weights.write_bytes(b"1234")
    calls, cache = [], FileCache()

    def load():
        calls.append(1)
        return len(calls)

    assert cache.get_for((config, weights), load, variant="ViT-B-32") == 1
    assert cache.get_for((config, weights), load, variant="ViT-B-32") == 1
    assert cache.get_for((config, weights), load, variant="ViT-L-14") == 2  # built another way
    weights.write_bytes(b"12345")
    assert cache.get_for((config, weights), load, variant="ViT-B-32") == 3

import hashlib
import os
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, RunClosed, TrackerError, UnsafeArtifactName


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_save_copies_beside_the_database_with_size_sha256_and_mime(db, tmp_path):
    Path("train.py").write_text("print('hi')\n")
    Path("notes.txt").write_text("some notes")
    Path("weights.bin").write_bytes(os.urandom(3000))
    with jt.start_run(name="a", system=False) as run:
        code = run.save("train.py", "code")
        notes = run.save("notes.txt", "input", filetype="text/markdown")
        weights = run.save(Path("weights.bin"))
    stored = tmp_path / "artifacts" / run.uuid
    assert code.path == f"artifacts/{run.uuid}/train.py"
    assert (stored / "train.py").read_text() == "print('hi')\n"
    assert code.size == 12 and code.sha256 == _sha("train.py") and code.mime == "text/x-python"
    assert code.category == "code" and notes.category == "input" and weights.category == "output"
    assert notes.mime == "text/markdown" and weights.mime == "application/octet-stream"
    frame = jt.load_run("a").artifacts()
    assert frame.name.tolist() == ["train.py", "notes.txt", "weights.bin"]
    assert frame.set_index("name").sha256["weights.bin"] == _sha("weights.bin")
    assert not list(stored.glob(".partial-*"))


def test_saving_a_name_again_replaces_it(db):
    Path("m.txt").write_text("one")
    with jt.start_run(name="again", system=False) as run:
        run.save("m.txt")
        Path("m.txt").write_text("two!")
        again = run.save("m.txt")
    frame = jt.load_run("again").artifacts()
    assert len(frame) == 1 and frame["size"][0] == 4 and frame.sha256[0] == again.sha256
    assert run.load_artifact("m.txt").read_text() == "two!"
    (replaced,) = [e for e in jt.load_run("again").events()["message"] if "replaced" in e]
    assert replaced.startswith("artifact 'm.txt' replaced (it was output, 3 bytes, sha256 ")  # a word is kept


def test_preserve_path_keeps_relative_paths_and_save_directory_and_save_all(db, tmp_path):
    for path in ["data/raw/a.csv", "data/raw/b.csv", "data/readme.md", "conf/x.yaml"]:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(path)
    with jt.start_run(name="dirs", system=False) as run:
        assert run.save("data/raw/a.csv", preserve_path=True).name == "data/raw/a.csv"
        assert run.save(tmp_path / "data" / "readme.md", preserve_path=True).name == "data/readme.md"
        assert run.save("data/raw/b.csv").name == "b.csv"
        names = [a.name for a in run.save_directory("data/raw", "input")]
        assert names == ["raw/a.csv", "raw/b.csv"]
        names = [a.name for a in run.save_directory("data", preserve_path=True)]
        assert names == ["data/readme.md", "data/raw/a.csv", "data/raw/b.csv"]
        names = [a.name for a in run.save_all(["conf", "data/readme.md"], "code")]
        assert names == ["conf/x.yaml", "readme.md"]
    stored = tmp_path / "artifacts" / run.uuid
    assert (stored / "raw" / "a.csv").read_text() == "data/raw/a.csv"
    assert (stored / "conf" / "x.yaml").read_text() == "conf/x.yaml"


def test_log_artifact_from_file_uses_the_given_name(db):
    Path("artifact.txt").write_text("This is a test")
    with jt.start_run(name="opsml", system=False) as run:
        saved = run.log_artifact_from_file("artifact", "artifact.txt")
    assert saved.name == "artifact" and saved.size == 14
    assert jt.load_run("opsml").load_artifact("artifact").read_text() == "This is a test"


def test_objects_are_pickled_and_restored(db, tmp_path):
    model = {"weights": [0.1, 0.2], "kind": "linear"}
    with jt.start_run(name="obj", system=False) as run:
        saved = run.log_artifact(model, "model")
        run.log_artifact([1, 2, 3], "models/list")
        Path("plain.txt").write_text("x")
        run.log_artifact("plain.txt")  # MLflow's log_artifact(local_path): the file is copied
        assert run.load_artifact("model") == model
    assert saved.mime == "application/x-python-pickle"
    record = jt.load_run("obj")
    assert record.load_artifact("model") == model
    assert record.restore_artifacts() == [model, [1, 2, 3]]
    assert record.restore_artifacts(["models/list"]) == [[1, 2, 3]]
    assert record.load_artifact("plain.txt") == tmp_path / "artifacts" / run.uuid / "plain.txt"
    with pytest.raises(TrackerError, match="no artifact named 'nope'.*model"):
        record.load_artifact("nope")
    with (
        jt.start_run(system=False) as other,
        pytest.raises(InvalidArgument, match="give the dict a name"),
    ):
        other.log_artifact(model)


def test_log_artifact_copies_a_path_and_pickles_anything_else(db, tmp_path):
    Path("model.pkl").write_bytes(b"weights")
    Path("outputs/sub").mkdir(parents=True)
    Path("outputs/a.txt").write_text("a")
    Path("outputs/sub/b.txt").write_text("b")
    with jt.start_run(name="mlflow", system=False) as run:
        assert run.log_artifact("model.pkl").name == "model.pkl"  # MLflow's log_artifact(local_path)
        assert run.log_artifact(Path("model.pkl"), "models").name == "models/model.pkl"  # artifact_path
        assert run.log_artifact("model.pkl", artifact_path="best").name == "best/model.pkl"
        folder = run.log_artifact("outputs", "run1")  # a folder: every file, like save_directory
        assert [a.name for a in folder] == ["run1/outputs/a.txt", "run1/outputs/sub/b.txt"]
        with pytest.raises(InvalidArgument, match=r"no file or folder there.*as_object=True"):
            run.log_artifact("modle.pkl", "models")  # a typo is never pickled as a string
        assert run.log_artifact("just text", "note", as_object=True).mime == "application/x-python-pickle"
        run.log_artifact({"w": 1}, "state", artifact_path="objects")
    record = jt.load_run("mlflow")
    assert record.load_artifact("models/model.pkl").read_bytes() == b"weights"
    assert record.load_artifact("run1/outputs/sub/b.txt").read_text() == "b"
    assert record.restore_artifacts() == ["just text", {"w": 1}]
    assert "modle.pkl" not in record.artifacts().name.tolist()


def test_a_changed_file_is_not_unpickled(db, tmp_path):
    with jt.start_run(name="tamper", system=False) as run:
        run.log_artifact({"a": 1}, "state")
    path = tmp_path / "artifacts" / run.uuid / "state"
    path.write_bytes(path.read_bytes() + b"!")
    with pytest.raises(TrackerError, match="changed since it was saved"):
        jt.load_run("tamper").load_artifact("state")


@pytest.mark.parametrize(
    "name, why",
    [
        ("../escape.txt", "'..'"),
        ("a/../../escape.txt", "'..'"),
        ("..\\escape.txt", "'..'"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share\\x", "absolute"),
        ("C:\\Windows\\x", "absolute"),
        ("c:x", "absolute"),
        ("", "non-empty"),
        ("./.", "names no file"),
        ("a\x00b", "control character"),
    ],
)
def test_unsafe_artifact_names_are_refused(db, tmp_path, name, why):
    Path("f.txt").write_text("x")
    with jt.start_run(name="unsafe", system=False) as run:
        with pytest.raises(UnsafeArtifactName, match=why):
            run.log_artifact_from_file(name, "f.txt")
        with pytest.raises(UnsafeArtifactName, match=why):
            run.log_artifact({"x": 1}, name)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "artifacts" / "escape.txt").exists()
    assert jt.load_run("unsafe").artifacts().empty


def test_preserve_path_outside_the_working_folder_is_refused(db, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("x")
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")
    try:
        with jt.start_run(system=False) as run:
            with pytest.raises(UnsafeArtifactName, match="preserve_path=False"):
                run.save(outside, preserve_path=True)
            with pytest.raises(UnsafeArtifactName, match="'..'"):
                run.save("../../" + outside.name, preserve_path=True)
            assert run.save(outside).name == outside.name  # without preserve_path only the file name counts
    finally:
        outside.unlink()


def test_symbolic_links_out_of_the_artifact_folder_are_refused(db, tmp_path):
    Path("f.txt").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with jt.start_run(name="links", system=False) as run:
        run.save("f.txt")  # creates the run's folder
        (tmp_path / "artifacts" / run.uuid / "out").symlink_to(elsewhere, target_is_directory=True)
        with pytest.raises(UnsafeArtifactName, match="symbolic link"):
            run.save("f.txt", name="out/f.txt")
        with pytest.raises(UnsafeArtifactName, match="symbolic link"):
            run.save("f.txt", name="out/deeper/f.txt")
    assert list(elsewhere.iterdir()) == []


def test_a_stored_row_pointing_outside_is_not_read(db, tmp_path):
    (tmp_path / "secret").write_text("s")
    with jt.start_run(name="imported", system=False) as run:
        pass
    row = {"name": "x", "category": "output", "path": "../secret", "size": 1, "sha256": "0", "mime": None}
    run.store.restore_records(run.id, [{**row, "created": 0.0}])
    with pytest.raises(UnsafeArtifactName, match="outside"):
        jt.load_run("imported").load_artifact("x")


def test_large_files_are_streamed_not_read_into_memory(db, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:  # 64 MiB, sparse: cheap to make
        handle.truncate(64 << 20)
        handle.seek(-5, os.SEEK_END)
        handle.write(b"tail!")
    with jt.start_run(system=False) as run:
        tracemalloc.start()
        saved = run.save(big)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert saved.size == 64 << 20 and saved.sha256 == _sha(big)
    assert peak < 8 << 20, f"peak Python memory {peak / 2**20:.1f} MiB while saving a 64 MiB file"


def test_categories_and_a_closed_run(db):
    Path("f.txt").write_text("x")
    with jt.start_run(system=False) as run:
        with pytest.raises(InvalidArgument, match="category must be one of code, input, output"):
            run.save("f.txt", "model")
        with pytest.raises(FileNotFoundError):
            run.save("missing.txt")
        with pytest.raises(InvalidArgument, match="save_directory"):
            run.save(".")
    with pytest.raises(RunClosed, match="resume it"):
        run.save("f.txt")


def test_log_dataset_records_schema_shape_dtypes_and_a_content_hash(db):
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5], "label": ["a", "b", "a"]})
    with jt.start_run(name="data", system=False) as run:
        train = run.log_dataset(frame, "train", role="train")
        same = run.log_dataset(frame.copy(), "train-copy", role="train")
        changed = run.log_dataset(frame.assign(y=[0.5, 1.5, 2.6]), "test", role="test")
        listy = run.log_dataset(pd.DataFrame({"l": [[1], [2]]}), "lists")
        with pytest.raises(InvalidArgument, match="pandas DataFrame"):
            run.log_dataset([1, 2], "nope")
    assert train["shape"] == [3, 3] and train["columns"] == ["x", "y", "label"]
    assert train["dtypes"] == {"x": "int64", "y": "float64", "label": str(frame.dtypes["label"])}
    assert train["hash"] == same["hash"] != changed["hash"] and len(train["hash"]) == 64
    assert listy["shape"] == [2, 1]
    record = jt.load_run("data")
    assert record.params["dataset.train"] == {"role": "train", "shape": [3, 3], "hash": train["hash"]}
    events = record.events()
    assert events.extra[0]["dataset"] == train and "3 rows x 3 columns" in events.message[0]

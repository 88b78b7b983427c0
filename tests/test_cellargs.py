import pytest

from jupyter_tracker.errors import InvalidArgument
from jupyter_tracker.notebook.cellargs import HelpRequested, literal, parse_track_run, tokenize, typo_hints


def test_params_are_literals_else_text():
    options, params, name = parse_track_run(
        'name=baseline lr=1e-3 layers=[64, 32] opt=adam label="a b" flag=True quoted=\'1\' cfg={"a": 1}'
    )
    assert name == "baseline"
    assert params == {
        "lr": 0.001,
        "layers": [64, 32],
        "opt": "adam",
        "label": "a b",
        "flag": True,
        "quoted": "1",
        "cfg": {"a": 1},
    }
    assert options.var == "run" and options.system and options.panel


def test_flags():
    options, params, name = parse_track_run(
        "--project mnist --tags cnn,first -t extra --description 'first try' --as r --no-system --no-panel "
        "--interval 0.5 --db /tmp/x.db --folder /team/a --resume old"
    )
    assert (options.project, options.tags, options.description, options.var) == (
        "mnist",
        ["cnn,first", "extra"],
        "first try",
        "r",
    )
    assert not options.system and not options.panel
    assert options.interval == 0.5 and options.db == "/tmp/x.db" and options.folder == "/team/a"
    assert options.resume == "old" and params == {} and name is None


def test_flag_with_equals_and_negative_number_param():
    options, params, _ = parse_track_run("--project=p shift=-3")
    assert options.project == "p" and params == {"shift": -3}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus 1", r"unknown option --bogus \(the options are --as, --db"),
        ("--tag cnn", r"unknown option --tag; did you mean --tags\?"),
        ("--tags --project x", r"--tags needs a value before --project"),
        ("--no_panel", r"unknown option --no_panel; did you mean --no-panel\?"),
        ("--descripton x", r"did you mean --description\?"),
        ("lr=0.1 lr=0.2", "lr= is given twice"),
        ("=3", "malformed parameter"),
        ("bad-name=1", "not a valid Python variable name"),
        ("class=1", "not a valid Python variable name"),
        ("project=x", "looks like the --project option"),
        ("tags=a", "looks like the --tags option"),
        ("baseline", "neither key=value nor an --option"),
        ("name='unclosed", "unbalanced quote"),
        ("layers=[1, 2", "unbalanced bracket"),
        ("layers=1]", "unbalanced"),
        ("--interval 0.01", "at least 0.1"),
        ("--interval soon", "invalid float value"),
        ("--as 1x", "not a valid Python variable name"),
        ("run=3", "clashes with the run variable"),
        ('name=""', "non-empty"),
        ("--lr=0.1", "unknown option --lr"),
        ("lr=", "lr= has no value"),
        ("name=my run", 'a value with spaces needs quotes: name="my run"'),
        ("--project ''", "--project needs a name"),
    ],
)
def test_bad_lines_name_the_problem(line, message):
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[")):
        parse_track_run(line)


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("nmae=baseline", "name="),
        ("nam=baseline", "name="),
        ("tag=cnn", "--tags"),
        ("desc='first try'", "--description"),
        ("projet=mnist", "--project"),
        ("intervall=2", "--interval"),
        ("folders='/team'", "--folder"),
    ],
)
def test_a_near_miss_of_name_or_an_option_is_kept_as_a_param_with_a_hint(line, meant):
    options, params, name = parse_track_run(f"{line} lr=0.1")
    key = line.split("=")[0]
    assert key in params and name is None  # kept: the cell still runs
    (hint,) = typo_hints(params)
    assert hint.startswith(f"%%track_run: did you mean {meant}? {key}=") and "kept as a parameter" in hint


def test_ordinary_params_get_no_hint():
    line = "lr=0.1 same=1 game=2 size=3 epochs=4 mode=x db_size=5 page=6 fold=3 int=5 res=2 proj=1"
    _, params, _ = parse_track_run(line)
    assert typo_hints(params) == []


def test_tokenize_keeps_quoted_and_bracketed_spans():
    assert tokenize('a="x y" b=[1, [2, 3]] c=(1, 2) d=\'it"s\'') == [
        'a="x y"',
        "b=[1, [2, 3]]",
        "c=(1, 2)",
        "d='it\"s'",
    ]


def test_literal_falls_back_to_text():
    assert literal("1e-3") == 0.001
    assert literal("adam") == "adam"
    assert literal("__import__('os')") == "__import__('os')"  # never evaluated


def test_help_is_a_request_not_an_error():
    with pytest.raises(HelpRequested, match="--no-panel"):
        parse_track_run("lr=0.1 --help")

"""`make train`'s Rasa step shows its progress from Rasa's own log, and fails as Rasa fails."""

import sys
import textwrap

from scripts import train_rasa
from scripts.train_rasa import configured_epochs, parse, train

# What Rasa 3.6 prints while training (log lines, and tqdm redraws separated by carriage returns).
FAKE_RASA = textwrap.dedent(r'''
    import sys, time
    print("2026-12-02 06:00:01 INFO     rasa.engine.training.hooks  - Starting to train component 'JiebaTokenizer'.")
    print("2026-12-02 06:00:01 INFO     rasa.engine.training.hooks  - Finished training component 'JiebaTokenizer'.")
    print("2026-12-02 06:00:02 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.")
    for i in range(1, 4):
        sys.stdout.write(f"\rEpochs:  {i * 33}%|###     | {i}/3 [00:0{i}<00:00,  1.00it/s, t_loss=1.2, i_acc=0.9]")
        sys.stdout.flush()
    print()
    print("2026-12-02 06:00:09 INFO     rasa.engine.training.hooks  - Finished training component 'DIETClassifier'.")
    print("2026-12-02 06:00:09 INFO     rasa.engine.training.hooks  - Restored component 'RegexFeaturizer' from cache.")
    sys.exit(int(sys.argv[1]))
''')


def test_rasa_lines_are_read_as_progress():
    assert parse("... - Starting to train component 'TEDPolicy'.").component == "TEDPolicy"
    assert parse("... - Finished training component 'TEDPolicy'.").kind == "finished"
    assert parse("... - Restored component 'RegexFeaturizer' from cache.").component == "RegexFeaturizer"
    epoch = parse("Epochs:  45%|####5     | 36/80 [00:20<00:25,  1.74it/s, t_loss=2.1]")
    assert (epoch.kind, epoch.epoch, epoch.epochs) == ("epoch", 36, 80)
    assert parse("2026-12-02 INFO rasa.model_training - Your Rasa model is trained") is None


def test_the_epochs_to_expect_come_from_the_config(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  - name: DIETClassifier\n    epochs: 80\n  - name: RegexFeaturizer\n"
        "policies:\n  - name: TEDPolicy\n    epochs: 60\n  - name: RulePolicy\n",
        encoding="utf-8",
    )
    assert configured_epochs(config) == 140
    assert configured_epochs(train_rasa.ROOT / "config.yml") > 0


def test_without_a_terminal_each_component_is_one_line_and_the_log_keeps_everything(tmp_path, capsys):
    said = []
    log = tmp_path / "train.log"
    assert train([sys.executable, "-c", FAKE_RASA, "0"], log, total_epochs=3, say=said.append) == 0
    assert [line.split(" done")[0] for line in said[:-1]] == [
        "[train] Rasa: JiebaTokenizer",
        "[train] Rasa: DIETClassifier",
        "[train] Rasa: RegexFeaturizer",
    ]
    assert said[-1].startswith("[train] Rasa model trained in")
    assert "3/3" in log.read_text(encoding="utf-8")
    assert capsys.readouterr().err == "", "no bar is drawn when nobody watches"


def test_a_failed_training_shows_the_end_of_its_log_and_keeps_rasas_exit_code(tmp_path):
    said = []
    assert train([sys.executable, "-c", FAKE_RASA, "3"], tmp_path / "train.log", total_epochs=3, say=said.append) == 3
    failure = said.index(next(line for line in said if "failed (exit code 3)" in line))
    assert any("Finished training component 'DIETClassifier'" in line for line in said[failure:])

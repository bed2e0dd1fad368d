"""datatrove's nearest equivalent of ``vocclean clean``, for ``bench/peers.py`` (bench only).

    .venv/bin/python bench/peers_datatrove.py SOURCE_DIR WORK_DIR [--dedup-only] [--workers 2]

Its own components, defaults unless said: ``JsonlReader`` -> ``FTFYFormatter``
-> ``RuleLines`` (a line filter with vocclean's built-in boilerplate rules) ->
``JsonlWriter``, then its four MinHash stages on that output (signatures,
buckets, clusters, filter) on ``LocalPipelineExecutor``s. The kept records are
written to ``WORK_DIR/out``, the removed duplicates (with their
``minhash_cluster_id``) to ``WORK_DIR/removed``; logs and intermediate files
stay under ``WORK_DIR``. ``--dedup-only`` runs the MinHash stages alone, on
``SOURCE_DIR``.

Settings forced by this machine (no network, current libraries):
- ``language="zh"``: datatrove's Chinese word tokenizer, ``spacy.blank("zh")``
  with the jieba segmenter, both shipped with their dictionaries (nothing is
  downloaded). With the default ``"en"`` tokenizer a Chinese article becomes
  clause-long "words".
- ``hash_fc="sha1"``: datatrove 0.10's xxhash path passes ``str`` where
  xxhash 4.1 wants bytes (TypeError).
- Each stage has its own logging directory: a stage finding another stage's
  completion markers skips its tasks as done (and writes nothing).
- The writers write uncompressed JSONL, as vocclean does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.formatters import FTFYFormatter
from datatrove.pipeline.formatters.base import BaseFormatter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig

from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs


@dataclass(frozen=True)
class LineRemoval:
    """A removed line, in the shape ``strip_boilerplate_evalset.score`` reads."""

    line: int
    text: str
    rule: str
    prefix: str = ""


class RuleLines(BaseFormatter):
    """Drops every line that one of vocclean's built-in rules matches, wherever it sits.

    Line and cut rules only (each tested as ``Rule.matches_line``: a whole-line
    match for strong and cut rules, a search for weak ones): a line filter can
    neither strip a lead-in (prefix rules) nor cut a document's tail, and
    datatrove has no notion of a rule's position.
    """

    name = "vocclean rules as a line filter"

    def __init__(self) -> None:
        super().__init__()
        self.rules = [rule for rule in load_packs(builtin_pack_paths()) if rule.action != "prefix"]

    def removals(self, text: str) -> list[LineRemoval]:
        removed = []
        for number, line in enumerate(text.split("\n")):
            stripped = line.strip()
            rule = next((r for r in self.rules if stripped and r.matches_line(stripped)), None)
            if rule is not None:
                removed.append(LineRemoval(number, line, rule.name))
        return removed

    def format(self, text: str) -> str:
        dropped = {removal.line for removal in self.removals(text)}
        return "\n".join(line for number, line in enumerate(text.split("\n")) if number not in dropped)


def minhash_config() -> MinhashConfig:
    return MinhashConfig(hash_config=HashConfig(hash_fc="sha1"))


def run(source: Path, work: Path, *, workers: int = 2, dedup_only: bool = False) -> None:
    """The pipeline over the JSONL files of ``source``; one task per input file."""
    tasks = max(1, len(list(source.glob("*.jsonl*"))))
    config = minhash_config()

    def execute(stage: str, steps: list, stage_tasks: int = tasks) -> None:
        logs = work / "logs" / stage  # one per stage: see the module doc
        LocalPipelineExecutor(steps, tasks=stage_tasks, workers=workers, logging_dir=str(logs)).run()

    clean = source
    if not dedup_only:
        clean = work / "clean"
        writer = JsonlWriter(str(clean), compression=None, output_filename="${rank}.jsonl")
        execute("clean", [JsonlReader(str(source)), FTFYFormatter(), RuleLines(), writer])
    signatures, buckets, remove = (str(work / name) for name in ("signatures", "buckets", "remove"))
    execute("signatures", [JsonlReader(str(clean)), MinhashDedupSignature(signatures, config, language="zh")])
    execute("buckets", [MinhashDedupBuckets(signatures, buckets, config=config)], config.num_buckets)
    execute("clusters", [MinhashDedupCluster(buckets, remove, config=config, save_cluster_id=True)], 1)
    removed = JsonlWriter(str(work / "removed"), compression=None, output_filename="${rank}.jsonl")
    writer = JsonlWriter(str(work / "out"), compression=None, output_filename="${rank}.jsonl")
    steps = [JsonlReader(str(clean)), MinhashDedupFilter(remove, removed, load_cluster_ids=True), writer]
    execute("filter", steps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dedup-only", action="store_true")
    args = parser.parse_args()
    run(args.source, args.work, workers=args.workers, dedup_only=args.dedup_only)


if __name__ == "__main__":
    main()

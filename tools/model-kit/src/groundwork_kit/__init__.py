"""groundwork-kit: attention maps, answers and layer features out of vision-language models.

`groundwork-kit attention RELEASE --model DIR --out RUN` writes a submission `groundwork score`
reads (submission.json, maps as safetensors, answers.jsonl); `groundwork-kit probe RELEASE --model
DIR --out RUN` writes curves.csv for `groundwork probe-health`.
"""

__version__ = "0.1.0"

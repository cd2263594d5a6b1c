"""Every view of both examples, deployed from table sources on each engine, equals the reference.

The DPDK health score's explanations have two million rows, too many to read through every
driver in a test. The SaaS example and the random logs check explanations on every engine.
"""

from pathlib import Path

import pytest

from engines.engine import Engine
from engines.harness import compare_adapter, example_reference, table_project
from healthlayer.api import deploy_project, load, open_target


@pytest.mark.slow
@pytest.mark.parametrize("example", ["dpdk", "saas"])
def test_example_views_equal_reference(engine: Engine, example: str, tmp_path: Path) -> None:
    folder = tmp_path / example
    raw_schema = f"raw_{example}"
    schema = f"hl_{example}"
    tables = table_project(example, folder, raw_schema, engine.adapter_type, engine.settings(schema))
    engine.load(raw_schema, tables)

    deploy_project(folder)

    project, _ = load(folder)
    reference = example_reference(example)
    views = [view for view in reference.view_names() if example != "dpdk" or not view.endswith("_explanations")]
    with open_target(project, must_exist=True) as adapter:
        problems = compare_adapter(reference, adapter, adapter.schema, views, normalise=engine.normalise)
    assert not problems, f"{engine.adapter_type} views differ from the reference:\n" + "\n".join(problems)

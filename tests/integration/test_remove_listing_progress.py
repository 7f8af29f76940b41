"""`remove -r --force` removes while the listing still runs: a `listing_progress` event says how
many objects were listed so far, so the live line can say 'N removed of M listed'."""

from __future__ import annotations


def test_listing_progress_is_said_while_removes_run_ahead(tmp_path, make_tree, run_azxfer):
    tree = make_tree(tmp_path / "tree", {f"d/f{i:03}.txt": b"x" for i in range(150)})
    result = run_azxfer("remove", tree, "-r", "--force", "--output-type", "json").assert_ok()
    kinds = [e["event"] for e in result.events()]
    listed_at = kinds.index("enumeration_done")
    listing = [e["files"] for e in result.events_of("listing_progress")]
    # One per page of removes started during the listing (64 objects a page, singles).
    assert listing == sorted(listing) and listing[0] == 64, listing
    assert listing[-1] <= result.events_of("enumeration_done")[0]["files"], listing
    assert all(k != "listing_progress" for k in kinds[listed_at:]), kinds
    assert not tree.exists() or not any(tree.rglob("*.txt"))

"""`#references` in a prompt, the prompt with numbered sources, and stored citations."""

from __future__ import annotations

from mai_tui.core.context import AppContext, load_context
from mai_tui.core.knowledge import rag
from mai_tui.core.knowledge.retrieval import Passage
from mai_tui.core.store.models import KnowledgeCollection, KnowledgeDocument


def passage(n: int, kind: str = "pdf", page: int | None = 3, heading: str | None = None) -> Passage:
    file = f"file{n}.{kind}"
    return Passage("papers", n, file, f"/docs/{file}", kind, page, heading, f"text {n}", 0, 6, 0.5, 0.7)


def setup_kb(context: AppContext) -> None:
    with context.session() as session:
        papers = KnowledgeCollection(name="Papers", embedder="minilm", chunk_size=1000, chunk_overlap=100)
        session.add(papers)
        session.add(KnowledgeCollection(name="notes", embedder="minilm", chunk_size=1000, chunk_overlap=100))
        session.flush()
        for name in ("dpr.pdf", "deck.pptx", "Papers-old.pdf", "failed.pdf"):
            version = None if name == "failed.pdf" else "v1"  # a file that never indexed is not offered
            document = KnowledgeDocument(
                collection_id=papers.id or 0, path=f"/d/{name}", path_hash=name, name=name, indexed_version=version
            )
            session.add(document)


def test_references_name_collections_and_files_and_leave_other_hashtags() -> None:
    context = load_context()
    setup_kb(context)
    with context.session(write=False) as session:
        refs = rag.parse_references(
            session,
            "#papers what does #dpr.pdf say about #recall, see issue#4 and https://x.org/a#notes (#failed.pdf)?",
        )
        assert refs.collections == ["Papers"]  # matched without regard to case, named as stored
        assert [(c, f) for c, _id, f in refs.files] == [("Papers", "dpr.pdf")]
        assert refs.question == "what does say about #recall, see issue#4 and https://x.org/a#notes (#failed.pdf)?"
        assert refs.names() == ["Papers", "dpr.pdf"]
        none = rag.parse_references(session, "no references #here")
        assert not none
        assert none.question == "no references #here"
        twice = rag.parse_references(session, "#notes #notes, what?")
        assert twice.collections == ["notes"]
        assert twice.question == ", what?"


def test_completions_offer_collections_first_then_files() -> None:
    context = load_context()
    setup_kb(context)
    with context.session(write=False) as session:
        assert rag.completions(session, "pa") == [("Papers", "collection"), ("Papers-old.pdf", "file")]
        assert rag.completions(session, "D") == [("deck.pptx", "file"), ("dpr.pdf", "file")]
        assert rag.completions(session, "zzz") == []
        assert rag.completions(session, "fail") == []


def test_the_prompt_numbers_each_source_with_its_location() -> None:
    prompt = rag.build_prompt(
        "  What is DPR?  ",
        [passage(1, heading="Results"), passage(2, kind="pptx", page=4), passage(3, kind="txt", page=None)],
    )
    assert "[1] file1.pdf, page 3 — Results\ntext 1" in prompt
    assert "[2] file2.pptx, slide 4\ntext 2" in prompt
    assert "[3] file3.txt\ntext 3" in prompt
    assert prompt.endswith("Question: What is DPR?")


def test_citations_survive_a_round_trip_through_json() -> None:
    passages = [passage(1), passage(2, kind="pptx", page=5, heading="Überblick")]
    stored = rag.citations_json(passages)
    assert "Überblick" in stored  # stored readable, not escaped
    assert rag.load_citations(stored) == passages
    assert rag.load_citations(None) == []
    assert rag.load_citations("not json") == []
    assert rag.load_citations('[{"file": "x"}]') == []


def test_cited_lists_valid_source_numbers_in_order_of_first_mention() -> None:
    assert rag.cited("DPR wins [2], see also [1][2] and [7] and [0].", 3) == [2, 1]
    assert rag.cited("no citations", 3) == []


def test_the_sources_take_room_when_the_history_is_fitted_to_the_context() -> None:
    from mai_tui.core.chat.turns import prepare_turn
    from mai_tui.core.knowledge.rag import References, Retrieved
    from mai_tui.core.store.models import CatalogueEntry, ChatMessage

    context = load_context()
    with context.session() as session:
        context.current_user(session)  # the first user: an admin, who may call models
        session.add(CatalogueEntry(id="ollama/small", provider="ollama", model="small", context_length=3000))
    first = prepare_turn(context, "tell me about harbours", model="ollama/small")
    with context.session() as session:
        answer = session.get(ChatMessage, first.answer.id)
        assert answer is not None
        answer.content = "Harbours shelter ships. " * 200  # about 1,200 tokens of history
        session.add(answer)
    plain = prepare_turn(context, "and lighthouses?", conversation_id=first.conversation_id, model="ollama/small")
    assert plain.dropped == 0  # without sources the whole history fits
    sources = [passage(n) for n in range(1, 4)]
    long = [Passage(**{**p.__dict__, "text": "Lighthouse keepers log every ship. " * 60}) for p in sources]
    retrieved = Retrieved(References(collections=["papers"]), long, rag.build_prompt("and lighthouses?", long))
    grounded = prepare_turn(
        context, "and lighthouses?", conversation_id=first.conversation_id, model="ollama/small", retrieved=retrieved
    )
    assert grounded.dropped > 0  # the older turns give way to the sources
    assert "<sources>" in grounded.request.messages[-1].content

"""Who meets whom in a matching round: a pure function of the people taking part and the pairs to avoid.

Two focal points may be paired when they are of different cities, share a language and are not an
avoided pair (a block either way, or a pair that met in one of the last rounds). Among the pairs that
may be made, a maximum-weight matching (networkx's blossom algorithm) prefers shared challenges and
different regions. An odd one out joins the pair it fits best, making a trio in which every two share
a language.

The exact matching costs O(n³): 50 s for 2,000 people with 17,000 candidate edges. So a large round
is cut into blocks of people who can talk (grouped by language, shuffled by the round's seed), each
block keeps only every person's best `neighbours` edges, and each block is matched exactly; the ones
left over are grouped again (by their rarest language, then together when they fit in one block) and
matched again, up to three passes, before any trio is made. A round of up to `block_size` people is a
single exact matching over all its possible pairs, so nobody is left out who could have been paired.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import networkx as nx

Pair = frozenset[int]


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    city: int
    region: str
    languages: frozenset[str]
    topics: frozenset[str]


@dataclass(frozen=True, slots=True)
class Weights:
    base: float = 10.0  # any possible pair is better than none
    shared_topic: float = 4.0  # per challenge both work on (at most three count)
    different_region: float = 3.0
    max_shared_topics: int = 3


def can_pair(a: Candidate, b: Candidate, avoid: Collection[Pair]) -> bool:
    return (
        a.id != b.id
        and a.city != b.city
        and bool(a.languages & b.languages)
        and frozenset((a.id, b.id)) not in avoid
    )


def score(a: Candidate, b: Candidate, weights: Weights = Weights()) -> float:
    """How good a pair they make (only meaningful when `can_pair`)."""
    shared = min(len(a.topics & b.topics), weights.max_shared_topics)
    value = weights.base + weights.shared_topic * shared
    if a.region != b.region:
        value += weights.different_region
    return value


def pair_up(
    candidates: Sequence[Candidate],
    avoid: Collection[Pair] = frozenset(),
    *,
    seed: int = 0,
    weights: Weights = Weights(),
    block_size: int = 120,
    neighbours: int = 12,
) -> list[tuple[int, ...]]:
    """The round's groups: pairs, and trios for the odd ones out; each a sorted tuple of ids, the
    groups sorted. Anyone who can be paired with nobody is in no group."""
    by_id = {c.id: c for c in candidates}
    if len(by_id) != len(candidates):
        raise ValueError("a person is listed twice")
    rng = random.Random(seed)
    matched: list[tuple[int, int]] = []
    left = [person for person in by_id.values() if person.languages]  # nobody to talk with otherwise
    for attempt in range(3):
        blocks = _blocks(left, block_size, rng, attempt)
        left = []
        kept = None if len(blocks) == 1 else neighbours
        for block in blocks:
            pairs, unmatched = _match_block(block, avoid, weights, kept, rng)
            matched += pairs
            left += unmatched
        if len(left) < 2 or len(blocks) == 1:
            break
    groups: list[list[int]] = [sorted(pair) for pair in matched]
    _add_trios(groups, left, by_id, avoid, weights)
    return sorted(tuple(group) for group in groups)


def _blocks(people: list[Candidate], size: int, rng: random.Random, attempt: int) -> list[list[Candidate]]:
    """People grouped by a language they speak (the most spoken one at the first attempt, so the many
    meet the many; the rarest at the next, so those with a rare language meet each other), shuffled,
    cut into blocks of at most `size`."""
    if len(people) <= size:
        return [people]
    spoken = Counter(language for person in people for language in person.languages)
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for person in people:
        ranked = sorted(person.languages, key=lambda language: (-spoken[language], language))
        groups[ranked[0] if attempt % 2 == 0 else ranked[-1]].append(person)
    blocks: list[list[Candidate]] = []
    for language in sorted(groups):
        members = groups[language]
        rng.shuffle(members)
        count = -(-len(members) // size)
        step = -(-len(members) // count)
        blocks += [members[i : i + step] for i in range(0, len(members), step)]
    return blocks


def _match_block(
    block: list[Candidate],
    avoid: Collection[Pair],
    weights: Weights,
    neighbours: int | None,
    rng: random.Random,
) -> tuple[list[tuple[int, int]], list[Candidate]]:
    graph = nx.Graph()
    graph.add_nodes_from(person.id for person in block)
    best: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for a, b in combinations(block, 2):
        if can_pair(a, b, avoid):
            value = score(a, b, weights) + rng.random() * 0.01  # ties broken by the round's seed
            best[a.id].append((value, b.id))
            best[b.id].append((value, a.id))
    for person, edges in best.items():
        kept = sorted(edges, reverse=True) if neighbours is None else sorted(edges, reverse=True)[:neighbours]
        for value, other in kept:
            graph.add_edge(person, other, weight=value)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    pairs = [(a, b) if a < b else (b, a) for a, b in matching]
    taken = {person for pair in pairs for person in pair}
    return pairs, [person for person in block if person.id not in taken]


def _add_trios(
    groups: list[list[int]],
    left: Iterable[Candidate],
    by_id: dict[int, Candidate],
    avoid: Collection[Pair],
    weights: Weights,
) -> None:
    """Each person left over joins the pair they fit best (compatible with both, a different city from
    both), each pair taking at most one; someone who fits no pair stays out of this round."""
    joined: set[int] = set()
    for person in sorted(left, key=lambda c: c.id):
        choice: tuple[float, int] | None = None
        for index, group in enumerate(groups):
            if index in joined or len(group) != 2:
                continue
            a, b = by_id[group[0]], by_id[group[1]]
            if can_pair(person, a, avoid) and can_pair(person, b, avoid):
                value = score(person, a, weights) + score(person, b, weights)
                if choice is None or value > choice[0]:
                    choice = (value, index)
        if choice is not None:
            joined.add(choice[1])
            groups[choice[1]] = sorted([*groups[choice[1]], person.id])

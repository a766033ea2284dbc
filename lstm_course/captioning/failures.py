"""How generated captions go wrong, slot by slot: lecture 9's successes and failures.

The slides sort a captioner's output into captions that describe the image without errors,
with minor errors, or hardly at all. Our grammar makes that sorting exact: a caption is parsed
into its five slots (colour, shape, relation, colour, shape) and compared with the closer of
the scene's two references (``lstm_course.data.scenes.compare_caption``):

    right              every slot as in a reference
    one slot wrong     a minor error ("a red circle left of a red square")
    two or more wrong  or a caption the grammar cannot produce

Two failure patterns of compositional generalisation are counted on their own: naming a
``HELD_OUT`` colour-shape pair at all, and naming one pair twice.
"""

from lstm_course.data.scenes import HELD_OUT, Parsed, compare_caption, parse_caption

KINDS_OF_CAPTION = ("right", "one slot wrong", "two or more wrong", "ungrammatical")


def _kind(wrong):
    """The kind of a caption from its wrong slots (None: ungrammatical)."""
    return KINDS_OF_CAPTION[3] if wrong is None else KINDS_OF_CAPTION[min(len(wrong), 2)]


def error_counts(written, scene_set):
    """How the captions of a split are wrong, slot by slot (``compare_caption``).

    Args:
        written: N captions (str). scene_set: the ``SceneSet`` they describe.
    Returns:
        ({kind: count} for ``KINDS_OF_CAPTION``, {slot: count} for each field of ``Parsed``:
        how many grammatical captions get that slot wrong).
    """
    if len(written) != len(scene_set.scenes):
        raise ValueError(
            f"written must hold one caption per scene, got {len(written)} for "
            f"{len(scene_set.scenes)} scenes"
        )
    kinds = dict.fromkeys(KINDS_OF_CAPTION, 0)
    slots = dict.fromkeys(Parsed._fields, 0)
    for text, scene in zip(written, scene_set.scenes, strict=True):
        wrong, _ = compare_caption(text, scene)
        kinds[_kind(wrong)] += 1
        for slot in wrong or ():
            slots[slot] += 1
    return kinds, slots


def print_errors(written_by_split, scene_sets):
    """One row per split and model: how many captions are right or wrong, and which slots.

    Args:
        written_by_split: {split: {model name: captions}}. scene_sets: {split: SceneSet}.
    """
    print(
        f"{'model':22s} {'split':6s}  right  1 wrong  2+ wrong |"
        " colour1 shape1 relation colour2 shape2"
    )
    for split, by_model in written_by_split.items():
        for name, texts in by_model.items():
            kinds, slots = error_counts(texts, scene_sets[split])
            head = f"{kinds['right']:5d} {kinds['one slot wrong']:8d}"
            head += f" {kinds['two or more wrong']:9d}"
            tail = f"{slots['colour_1']:8d} {slots['shape_1']:6d} {slots['relation']:8d}"
            tail += f" {slots['colour_2']:7d} {slots['shape_2']:6d}"
            extra = f"  ({kinds['ungrammatical']} ungrammatical)" if kinds["ungrammatical"] else ""
            print(f"{name:22s} {split:6s}  {head} |{tail}{extra}")


def held_out_named(written):
    """How many captions name a ``HELD_OUT`` colour-shape pair (read from the grammar's
    slots, so "a red circle left of a green triangle" names none)."""
    count = 0
    for text in written:
        p = parse_caption(text)
        named = set() if p is None else {(p.colour_1, p.shape_1), (p.colour_2, p.shape_2)}
        count += bool(named & set(HELD_OUT))
    return count


def repeated_objects(written):
    """How many captions name the same colour-shape pair twice ("a red circle above a red
    circle"): always wrong, since the two objects of a scene differ."""
    parsed = [parse_caption(text) for text in written]
    return sum(p is not None and p[:2] == p[3:] for p in parsed)


def examples_by_errors(written, scene_set, n):
    """Scenes for the successes-and-failures figure, grouped as the slides group them.

    Returns:
        {"right": [k, ...], "one slot wrong": [...], "two or more wrong": [...]}, the first
        ``n`` scenes of each kind (fewer if there are not enough); ungrammatical captions
        count as "two or more wrong".
    """
    groups = {kind: [] for kind in KINDS_OF_CAPTION[:3]}
    for k, (text, scene) in enumerate(zip(written, scene_set.scenes, strict=True)):
        wrong, _ = compare_caption(text, scene)
        kind = min(_kind(wrong), KINDS_OF_CAPTION[2], key=KINDS_OF_CAPTION.index)
        if len(groups[kind]) < n:
            groups[kind].append(k)
    return groups

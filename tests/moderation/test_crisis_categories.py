"""Crisis language by category, on wording written for these tests (not from the labelled
splits): each kind of crisis the filter must catch, and each kind of look-alike it must
leave alone. tests/moderation/test_filter_quality.py measures the same categories at scale."""

from __future__ import annotations

import pytest

from moderation.crisis import find_crisis_language

CAUGHT = {
    "explicit": [
        "I am going to kill myself on Sunday.",
        "i really want to end my life",
        "I've decided to take my own life.",
        "Honestly? I want to be dead.",
        "I'm going to commit suicide, I can't do this",
    ],
    "indirect": [
        "After Friday nobody will have to worry about me again.",
        "I'll be with Dad soon, I miss him too much to stay.",
        "Everyone's life would be easier if I just wasn't in it.",
        "I'm checking out for good this weekend.",
        "Won't be a burden to anyone much longer.",
        "My family would have a far easier life with me out of the picture.",
        "once i'm gone my sister can stop worrying, it won't be long",
    ],
    "plan": [
        "I've been saving my tablets for weeks, there's enough now.",
        "I know which bridge. Thursday night after work.",
        "bought a rope today, it's in the boot of the car",
        "I've worked out how and when, just waiting for the house to be empty.",
        "Tonight's the night, the pills are lined up.",
    ],
    "preparatory": [
        "Wrote letters to each of my kids and left them with my will.",
        "I've given my dog to my neighbour and paid off my debts so nobody's left with anything.",
        "Deleted all my accounts, said goodbye to my sister. Done now.",
        "This is my final message here. Thank you for trying.",
        "Sorted out who gets my guitar and my car. Won't be needing them.",
        "Picked a day for it and left the envelopes in the drawer for whoever finds me.",
        "finished my farewell letters tonight, one for each of them",
    ],
    "passive": [
        "I just wish I could go to sleep and not wake up.",
        "There's no point in going on anymore.",
        "I pray every night that I don't wake up",
        "If a bus hit me tomorrow I'd be relieved.",
        "I wish I'd never been born, I want it all to stop forever.",
        "Honestly I don't care whether I live or die at this point.",
        "I'm jealous of people who get to die in their sleep.",
    ],
    "self_harm": [
        "Cut again tonight, deeper than last time.",
        "burned my arm with a lighter again and i want to do it more",
        "I relapsed on self harm and it's getting worse every night",
        "My thighs are covered in fresh cuts and I can't stop.",
        "been hitting myself till i bruise, doing it more and more",
    ],
    "texting": [
        "gonna kms tn",
        "wanna unalive myself fr",
        "thinkin bout sewerslide again",
        "i cant do this no more im done done",
        "ready 2 ctb this wknd",
        "evry1 wud b betr off w/o me",
        "wanna b ded tbh",
    ],
}

LEFT_ALONE = {
    "figure_of_speech": [
        "This traffic is killing me.",
        "I'm dying to see the new series!",
        "My phone is dead, message you later.",
        "I could murder a pizza right now.",
        "I'm dead tired after that double shift.",
    ],
    "third_person": [
        "My brother keeps saying he wants to die, how do I help him?",
        "My friend told me she's been cutting, what should I say?",
        "How do I support my wife who has suicidal thoughts?",
        "My son wrote a goodbye note and I'm terrified for him.",
        "A colleague said he doesn't want to live anymore.",
    ],
    "helping": [
        "If you're thinking about ending your life, please call 988 or Samaritans on 116 123.",
        "You're not a burden, we're glad you're here.",
        "Please reach out to your GP or a crisis line tonight if it gets worse.",
        "Hold on, talk to us. You matter.",
        "If you feel unsafe, go to A&E or call 999.",
    ],
    "recovery": [
        "Two years ago I tried to take my life. Today I graduated.",
        "Six months self harm free today!",
        "I used to want to die every day. Therapy changed that.",
        "When I was 16 I wrote a suicide note. I'm 30 now and happy.",
        "Back then I had the pills saved. I'm so glad I got help.",
    ],
    "grief": [
        "It's been a year since my dad died by suicide. I miss him.",
        "Visited mum's grave today and cried.",
        "My best friend took his life last spring and I'm still angry.",
        "Grief comes in waves, today was a big one.",
        "Lost my wife to cancer in March. Learning to live again.",
    ],
    "news_fiction": [
        "The novel's heroine plans her own death in chapter three.",
        "News: suicide rates among farmers have risen.",
        "That film about a man who wants to die was so moving.",
        "The song lyric 'I want to disappear' has been stuck in my head.",
        "A new study on self-harm in teenagers came out today.",
    ],
    "denial": [
        "I'm not suicidal, just really tired.",
        "No, I won't hurt myself. I just needed to vent.",
        "I'd never kill myself, I couldn't do that to my kids.",
        "Don't worry, I'm safe, just having a rough day.",
        "I'm not going to do anything stupid, promise.",
    ],
    "ordinary_plans": [
        "Writing my will now the baby's here, feels very grown up.",
        "Giving away my old clothes to the charity shop this weekend.",
        "This is my last post for a while, off on holiday!",
        "Rehoming my cat because my partner is allergic, heartbroken.",
        "Said goodbye to my team today, new job starts Monday.",
        "We've set the date for the wedding, 12th of June!",
        "I'm checking out of the hotel early tomorrow, flight's at nine.",
    ],
    "general": [
        "Feeling really low today, but I'll get through it.",
        "Anyone else just exhausted all the time?",
        "I'm so lonely since I moved here.",
        "Work is stressing me out badly.",
        "Had a cry in the car, feeling a bit better now.",
        # Reported false alarms: a plain remark, and the warm replies members write.
        "Nothing unusual here.",
        "Nothing out of the ordinary to report, just a quiet day.",
        "I'm here for you, you're not alone, it gets better",
        "You're not alone in this. It really does get better, and we're here for you x",
    ],
}


# Known misses, each with why; strict, so a fix shows up as a pass to remove here.
MISSED = {
    "I'm jealous of people who get to die in their sleep.": (
        "since the model's phrase reading (2026-12-08): 'people who', 'their sleep' read as "
        "about others; the reading gained 4 points of recall on the held-out lines"
    ),
}


@pytest.mark.parametrize(
    ("category", "text"),
    [
        pytest.param(c, t, marks=pytest.mark.xfail(strict=True, reason=MISSED[t]))
        if t in MISSED
        else (c, t)
        for c, texts in CAUGHT.items()
        for t in texts
    ],
)
def test_each_kind_of_crisis_is_caught(category: str, text: str) -> None:
    found = find_crisis_language(text)
    assert found is not None, f"{category}: {text!r}"
    assert found.why  # a peer supporter is told why


@pytest.mark.parametrize(
    ("category", "text"), [(c, t) for c, texts in LEFT_ALONE.items() for t in texts]
)
def test_look_alikes_are_left_alone(category: str, text: str) -> None:
    assert find_crisis_language(text) is None, f"{category}: {text!r}"


@pytest.mark.parametrize(
    "text", ["i " * 10_000, "i i i i i i i i i i", "lol " * 500, "me me me me me"]
)
def test_a_word_said_over_and_over_is_not_a_crisis(text: str) -> None:
    # The model counts words, so a few words repeated add up to a high score however little
    # each one says; too few distinct words for the model to go on by itself.
    assert find_crisis_language(text) is None

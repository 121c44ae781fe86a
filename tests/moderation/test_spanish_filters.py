"""The crisis and contact-details filters read Spanish (issue 18, item 5): a few lines of each
kind, written for these tests (not taken from the labelled sets in data/es/), through the
same detectors the pipeline uses. The labelled sets' figures are in test_filter_quality.py.
"""

from __future__ import annotations

import pytest

from moderation.contact import contact_filter, find_contact_details
from moderation.content import ContentKind, ContentPolicy, FilterInput
from moderation.crisis import crisis_filter, find_crisis_language
from moderation.language import looks_spanish, mostly_spanish


def _held_for_contact(text: str) -> bool:
    item = FilterInput(text, f"<p>{text}</p>", ContentKind.POST, ContentPolicy())
    return contact_filter("hold")(item) is not None


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    "text",
    ["ya no kiero seguir", "¿Qué tal el grupo de hoy?", "Mi hermana vive en Lima con su perro."],
)
def test_spanish_is_told_from_the_text(text: str) -> None:
    assert looks_spanish(text)


@pytest.mark.parametrize(
    "text",
    ["I can't do this anymore", "call me later x", "la la land was on tv last night"],
)
def test_english_is_not_read_as_spanish(text: str) -> None:
    assert not looks_spanish(text)


def test_spanglish_is_read_by_the_english_rules_and_model_too() -> None:
    text = "estoy re cansada de todo, de verdad. I just want to die tonight"
    assert not mostly_spanish(text)
    assert find_crisis_language(text) is not None


# --------------------------------------------------------------------------- crisis

CRISIS = [
    # explicit, and as phones type it
    "De verdad que ya no aguanto, me quiero morir.",
    "m kiero matar, ya no puedo mas",
    "toy pensando en tirarme del puente",
    # passive wishes
    "A veces quisiera dormirme y no despertar nunca más.",
    "q sentido tiene vivir si nadie me quiere",
    # indirect, a plan, preparing
    "Mi familia estaría mejor sin mí.",
    "Esta noche me voy a tomar todas las pastillas que he guardado.",
    "Ya escribí mi carta de despedida y la dejé en el cajón.",
    "Estoy regalando mis cosas porque ya no las voy a necesitar.",
    # self-harm
    "Anoche me volví a cortar los brazos.",
    "Me quemé el brazo con un cigarro a propósito otra vez.",
]

NOT_CRISIS = [
    # denial
    "No me voy a matar, tranquilos, solo estoy cansada.",
    "No estoy pensando en suicidarme, solo necesito descansar.",
    # someone else
    "Mi hermano dice que se quiere morir y no sé cómo ayudarlo.",
    "Mis papás me van a matar cuando vean las notas.",
    # figures of speech
    "Me muero de risa con los memes de mi tía.",
    "Me mata el calor de este verano.",
    "Me voy a cortar el pelo el sábado.",
    "Estoy con la soga al cuello con las deudas.",
    # the past, recovery
    "Hace dos años quise quitarme la vida; hoy estoy mucho mejor.",
    "Llevo 200 días sin autolesionarme y estoy orgullosa.",
    # helping, news, ordinary plans
    "Si piensas en suicidarte, llama al 024, te atienden siempre.",
    "La novela trata de un chico que se quiere suicidar.",
    "Adiós a todos, me voy de viaje, vuelvo el lunes.",
]


@pytest.mark.parametrize("text", CRISIS)
def test_spanish_crisis_language_is_recognised(text: str) -> None:
    found = find_crisis_language(text)
    assert found is not None, text
    assert found.by == "rules"


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_spanish_words_that_only_sound_like_a_crisis_are_left_alone(text: str) -> None:
    assert find_crisis_language(text) is None, find_crisis_language(text)


def test_spanish_crisis_language_gets_the_crisis_notice() -> None:
    text = "ya no quiero vivir, lo tengo decidido"
    item = FilterInput(text, f"<p>{text}</p>", ContentKind.POST, ContentPolicy())
    result = crisis_filter(lambda: [])(item)
    assert result is not None and result.notice is not None
    assert result.notice["code"] == "crisis"
    assert "quiero vivir" in result.flags["crisis"]


def test_spanish_quoted_from_someone_else_is_theirs() -> None:
    assert find_crisis_language("mi amiga me escribió: me quiero morir") is None


# --------------------------------------------------------------------------- contact

CONTACT = [
    # phones: Spanish and Latin American shapes, spaced, in words, split, look-alikes
    "mi móvil es el 634 21 98 70, escríbeme cuando quieras",
    "llámame al 55 4321 8765, es mi cel",
    "mi número: seis tres cuatro, dos uno, nueve ocho, siete cero",
    "es el seis cinco cero, doce, treinta y cuatro, cincuenta y seis",
    "empieza por 634 y después va 219870",
    "6E4 2l9 87O",
    # e-mail said in words, or only implied
    "escríbeme a marta punto ruiz arroba gmail punto com",
    "mi correo: pablo_g (arroba) hotmail (punto) es",
    "mi hotmail es el mismo nombre que uso aquí",
    # accounts with a Spanish cue
    "sígueme en insta: @cafe.con.leche_22",
    "agrégame al snap, soy tortuga_lenta09",
    # addresses in Spain, Mexico, Colombia, Chile
    "vivo en Calle Alcalá 120, 4º izquierda, Madrid",
    "mándamelo a Av. Reforma 505, Col. Cuauhtémoc, CDMX",
    "estoy en la carrera 15 # 93-47, apto 502",
    "mi dirección es Pasaje Las Lilas 332, Providencia",
]

NOT_CONTACT = [
    "tomo 150 mg de sertralina por la mañana",
    "la terapia cuesta 45 € y el seguro no la cubre",
    "el 12/06/2024 cumplí un año sin beber",
    "llama al 024 si lo necesitas, es gratis",
    "Teléfono de la Esperanza 717 003 717, atienden 24 horas",
    "en México, Línea de la Vida: 800 911 2000",
    "estoy en la habitación 214, planta 2",
    "Salmo 91:1-2 me acompaña",
    "@solete_88 gracias por tu mensaje de ayer",
    "mi tía vive en la calle de al lado",
    "el alquiler son 1.200.000 pesos al mes",
    "mi novio me escribe por WhatsApp todo el rato y me agobia",
    "la ley 1090 de 2006 regula la psicología en Colombia",
    "nací en 1987 y me mudé en 2015",
]


@pytest.mark.parametrize("text", CONTACT)
def test_spanish_contact_details_are_held(text: str) -> None:
    assert _held_for_contact(text), text


@pytest.mark.parametrize("text", NOT_CONTACT)
def test_spanish_numbers_and_places_that_are_not_contact_details_pass(text: str) -> None:
    assert not _held_for_contact(text), find_contact_details(text)


def test_spanish_rules_say_what_they_found() -> None:
    kinds = {match.kind for match in find_contact_details("vivo en C/ Mayor 12, 3º B")}
    assert "address" in kinds
    kinds = {match.kind for match in find_contact_details("luna arroba gmail punto com")}
    assert "email" in kinds

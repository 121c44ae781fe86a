"""The phrase rules for crisis language in Spanish: the same reading as phrases.py (first
person, now, not denied, not someone else's words, not a figure of speech), for Spanish as
members type it, from careful prose to phone shorthand ("kiero", "q", "xq", no accents).

The filters see every text whatever the interface language (a member may write Spanish on
an English page), so the language is read from the text itself (`may_be_spanish`: the text
looks Spanish by moderation.language, or is short and holds a word only Spanish uses). It is
a handful of set look-ups, so an English text pays almost nothing, and only a text that
passes it is read by these rules.

How the reading differs from the English rules: Spanish drops the subject and says the
person in the verb and its pronoun ("me quiero morir", "voy a matarme" are the writer; "se
quiere morir", "va a matarse" are someone else), so the patterns are written in first-person
forms and a third-person sentence simply doesn't match. What's left to set aside, clause by
clause: a negation just before ("no me voy a matar"), someone else's view or question about
the writer ("mi novio piensa que me quiero matar", "me preguntaron si quería hacerme daño"),
the past ("hace un año quise morirme", "a los 16", "llevo 40 días sin cortarme") and
figures of speech ("me muero de risa", "me voy a cortar el pelo").

Regular-expression safety: the text is normalised (NFKD, marks dropped, casefolded, texting
spellings written out) into clauses whose gaps are single spaces, and the patterns hold only
literal alternations and bounded repeats, so every search is linear in the clause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from moderation.crisis.phrases import CrisisMatch
from moderation.language import looks_spanish, word_counts

__all__ = ["find_spanish", "may_be_spanish", "model_text", "set_aside_spanish"]

# In a short text with no common English word, too few words to tell the language by: one
# of these words (which no English sentence uses) is enough to read it with the Spanish
# rules as well.
_SHORT = 400
_SPANISH_HINT = re.compile(
    r"quisiera|nacid|matarme|suicidarme|morirme|quitarme|cortarme|ojal|despert|desaparec"
    r"|pastillas|ahorc|kiero|sentido|vivir|adi[oó]s|desped|carta|autolesi|lastim|da[ñn]o"
)


def may_be_spanish(text: str) -> bool:
    """True when the Spanish rules should read `text`: it looks Spanish, or it is short and
    holds a word only Spanish uses ("quisiera no haber nacido" has none of the common ones)."""
    if looks_spanish(text):
        return True
    if len(text) >= _SHORT or word_counts(text)[1]:
        return False  # (long, or has an English word: English)
    return _SPANISH_HINT.search(text.casefold()) is not None


# --------------------------------------------------------------------------- normalising

# Phone spellings, written out before matching: "m kiero morir" -> "me quiero morir".
_TEXTING = {
    "q": "que", "k": "que", "ke": "que", "qe": "que", "xq": "porque", "pq": "porque",
    "porq": "porque", "x": "por", "d": "de", "m": "me", "t": "te", "kiero": "quiero",
    "qiero": "quiero", "kero": "quiero", "qero": "quiero", "quero": "quiero",
    "kieres": "quieres", "tngo": "tengo", "tego": "tengo", "toy": "estoy", "stoy": "estoy",
    "aki": "aqui", "aca": "aqui", "vdd": "verdad", "pa": "para", "tb": "tambien",
    "tmb": "tambien", "mnn": "manana", "bn": "bien", "xfa": "por favor",
    "pastis": "pastillas", "pasti": "pastilla", "nd": "nada", "nadien": "nadie",
    "sta": "esta", "sto": "esto", "dsp": "despues", "tqm": "te quiero mucho", "ntp": "",
    "morirm": "morirme", "matarm": "matarme", "suicidarm": "suicidarme",
    "desvivir": "morir", "desvivirme": "morirme", "desvivirse": "morirse", "nmms": "",
    "alv": "", "wey": "", "weon": "", "bro": "",
}  # fmt: skip
_MARKS = re.compile(r"[\u0300-\u036f]")
# "s*icidio", "su1cidio", "s.u.i.c.i.d.i.o": the coded spellings of suicide.
# (Written to start with the letter, which the engine scans for quickly, then look back.)
_CODED_SUICIDE = re.compile(r"s(?<!\ws)[\W_]?[u*][\W_]?[i1!*][\W_]?c[\W_]?[i1!*][\W_]?d")
_PLUS = re.compile(r"(?<=\s)\+(?=\s|$)")
_CLAUSE_BREAK = re.compile(
    r"[.!?;:,\n\u2026\u2013\u2014¡¿()]+|\s-\s"
    r"|\b(?:pero|aunque|sino|sin embargo|en cambio|mientras que)\b"
    r"|\by(?= (?:hoy|anoche|ahora|esta noche|ya)\b)"
)
_NON_WORD = re.compile(r"[^\w]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = _MARKS.sub("", text)
    text = _CODED_SUICIDE.sub("suicid", text)
    return _PLUS.sub("mas", text) if "+" in text else text


# The phone spellings as whole words, for `model_text` (longest first: "kiero" before "k").
_TEXTING_WORD = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, _TEXTING), key=len, reverse=True)) + r")\b"
)


def model_text(text: str) -> str:
    """Spanish as the Spanish model reads it (moderation/crisis/__init__.py): folded as the
    rules fold it, phone spellings written out ("kiero" -> "quiero"), sentence ends kept so
    a long post is still read in windows of sentences."""
    return _TEXTING_WORD.sub(lambda found: _TEXTING[found.group()], _fold(text))


def _clauses(text: str) -> Iterator[str]:
    for clause in _CLAUSE_BREAK.split(_fold(text)):
        words = [_TEXTING.get(word, word) for word in _NON_WORD.sub(" ", clause).split()]
        cleaned = " ".join(word for word in words if word)
        if cleaned:
            yield cleaned


# --------------------------------------------------------------------------- building blocks

# Dying and killing oneself, first person, infinitive or present.
_DIE = (
    r"(?:morirme|morir|matarme|suicidarme|quitarme la vida|acabar con mi vida|desaparecer"
    r"|dejar de (?:vivir|existir)|estar muert[oa]|irme de este mundo|dejar este mundo"
    r"|acabar con todo(?! lo que| el| la| los| las)|ahorcarme|colgarme|envenenarme"
    r"|cortarme las venas|pegarme un tiro|(?:tirarme|lanzarme|aventarme) (?:de|del|desde|por|a)"
    r" (?:un|una|el|la|las|los|al)? ?(?:puente|azotea|edificio|ventana|balcon|vias|tren"
    r"|metro|acantilado|viaducto|techo|terraza|piso|rio|mar)"
    r"|tomarme (?:todas )?(?:las|mis) (?:pastillas|pildoras|medicinas|pastas)"
    r"|(?:tomarme|tomar) una sobredosis|sobredosis)"
)
_DIE_ME = (
    r"(?:morir|matar|suicidar|desaparecer|ahorcar|colgar|envenenar|ir de este mundo"
    r"|tomar (?:todas )?(?:las|mis) (?:pastillas|pildoras|medicinas|pastas))"
)  # after "me": "me quiero morir"
_HARM = (
    r"(?:hacerme dano|lastimarme|cortarme|autolesionarme|herirme|quemarme|golpearme"
    r"|lastimarme|castigarme|hacerme algo)"
)
_HARM_ME = r"(?:hacer dano|lastimar|cortar|autolesionar|herir|quemar|golpear|hacer algo)"
_WANT = (
    r"(?:quiero|quisiera|necesito|deseo|pienso|voy a|tengo que|tengo ganas de|me dan ganas de"
    r"|ganas de|estoy pensando en|pensando en|pienso en|decidi|he decidido|estoy por"
    r"|estoy a punto de|a punto de|me gustaria|prefiero)"
    r"(?: (?:ya|de verdad|en serio|seriamente|realmente|solo|simplemente|neta|de una vez))?"
)
_WANT_ME = (
    r"(?:me (?:quiero|voy a|gustaria|dan ganas de|tengo que)|(?:quiero|voy a|tengo ganas de"
    r"|ganas de) me)"
    r"(?: (?:ya|de verdad|en serio|seriamente|realmente|solo|simplemente|neta))?"
)
# After "morir": what makes it a figure of speech ("de risa", "por un asado").
_FIGURATIVE_AFTER = re.compile(
    r" (?:de (?:la |el )?(?:risa|verguenza|ganas|hambre|sed|sueno|calor|frio|envidia|amor"
    r"|aburrimiento|asco|pena|nervios|cansancio|miedo|celos|ternura|emocion|gusto|felicidad"
    r"|alegria|curiosidad|ansias|tanto reir|cringe|oso|plancha)"
    r"|por (?:un|una|unos|unas|ver|verte|verlos|verlas|ir|el|la|los|las|comer|tomar|saber"
    r"|conocer|probar|tener|que llegue)\b|antes de|si (?:tengo|me toca|tuviera)\b"
    r"|el pelo|la melena|las unas|el flequillo|la barba|el cable|la luz|con (?:el|mi|la|nacho"
    r"|mi novi\w*)\b)"
)
# After "cortarme"/"me corte": a haircut or a kitchen accident, not self-harm.
_NOT_SELF_HARM_AFTER = re.compile(
    r" (?:(?:el|la|los|las|un|una|mi|mis) (?:pelo|cabello|flequillo|fleco|melena|barba|bigote"
    r"|unas|puntas|dedo|pasto|cesped|papel|pan|cable|tela|carne|verduras?|cebollas?|tomates?"
    r"|luz|rollo|tema|relacion|contacto)|al (?:cocinar|afeitarme|pelar|abrir)|cocinando"
    r"|pelando|picando|afeitandome|depilandome|sin querer|con (?:el|un|una|la) (?:papel|cuchillo"
    r"|lata|vidrio|hoja de papel|folio|cuter|tijera|tijeras|abrelatas|cristal))\b"
)
_NEGATIONS = frozenset(
    {"no", "nunca", "jamas", "ni", "tampoco", "nadie", "sin", "nada", "ninguna", "ningun", "cero"}
)
# Someone else's view of the writer, or a question put to them: not a disclosure.
_REPORTED = re.compile(
    r"\b(?:piensa|piensan|penso|pensaron|cree|creen|creyo|creyeron|dice|dicen|dijo|dijeron"
    r"|cuenta|conto|escribio|publico|puso|teme|temen|sospecha|amenaza|amenazo|jura)"
    r" (?:que|con)\b"
    r"|\b(?:pregunta|preguntan|pregunto|preguntaron|preguntaba|preguntas|preguntaste)"
    r"(?: \w+){0,2} si\b"
)
# The past: a recovery story, not a crisis now.
_PAST = re.compile(
    r"\b(?:(?<!desde )hace (?:un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|unos"
    r"|unas|varios|varias|muchos|muchas|\d+) (?:ano|anos|mes|meses|decada|decadas)"
    r"|a los \d+|cuando (?:tenia|era|estaba en|iba a)|durante (?:anos|meses|mucho tiempo)"
    r"|hubo (?:una epoca|un tiempo|un momento)|en (?:19|20)\d\d|solia|antes lo hacia"
    r"|(?:llevo|van|ya van|cumplo|celebro|hoy hace|hace) (?:\w+ ){0,2}(?:dias|semanas|meses"
    r"|anos) (?:sin|limpi[oa]|que no)|limpi[oa] de|mi (?:ultimo |primer )?intento"
    r"|me acuerdo de cuando|al principio|tuve ganas|tenia ganas|intente|en el pasado"
    r"|el ano pasado|quise|cuando (?:queria|quise|pensaba)|despues de intentar"
    r"|estuve (?:ingresad[oa]|internad[oa]|hospitalizad[oa])|se (?:fueron|han ido))\b"
)

# A pattern: the regex, whether a negation just before cancels it, and what after it makes it
# a figure of speech.
_Pattern = tuple[re.Pattern[str], bool, re.Pattern[str] | None]


def _p(
    regex: str, *, negatable: bool = True, unless_after: re.Pattern[str] | None = None
) -> _Pattern:
    return re.compile(rf"\b(?:{regex})\b"), negatable, unless_after


_PATTERNS: tuple[_Pattern, ...] = (
    # Wanting, deciding, thinking of dying or killing oneself.
    _p(rf"{_WANT} {_DIE}", unless_after=_FIGURATIVE_AFTER),
    _p(rf"{_WANT_ME} {_DIE_ME}", unless_after=_FIGURATIVE_AFTER),
    _p(
        r"(?:me (?:voy|vas|iba) a|voy a|a punto de|pienso) (?:matarme|suicidarme|quitarme la vida"
        r"|tirarme|colgarme|ahorcarme|envenenarme|pegarme un tiro|cortarme las venas)"
        r"|me (?:voy|iba) a (?:matar|suicidar|quitar la vida|colgar|ahorcar|envenenar)"
    ),
    _p(r"(?:mejor|ojala) me muero(?! de| por)|mejor me mato$|ya me mato$"),
    _p(
        r"(?:darme|me voy a dar|pegarme|me voy a pegar) un (?:tiro|balazo|plomazo)"
        r"|volarme (?:la cabeza|los sesos)|(?:tragarme|tomarme|me voy a tomar|me tomo)"
        r" (?:todo el frasco|el frasco entero|la caja entera|todas las pastillas|todas mis"
        r" pastillas)|colgarme (?:de|del) (?:una|un|la|el) (?:viga|arbol|ventilador|puerta"
        r"|techo|barra)|(?:quiero|voy a|pienso) saltar (?:de|del|desde) (?:un |una |el |la )?"
        r"(?:puente|edificio|azotea|balcon|techo|acantilado|viaducto)"
        r"|irme (?:de aqui |de este mundo )?para siempre$|dormir(?:me)? para siempre",
    ),
    _p(
        r"(?:para|por) que sigo (?:viv[oa]|aqui|respirando|existiendo)"
        r"|no me importa (?:si|que) (?:me muero|muero|me muera|vivo o muero)"
        r"|me da (?:igual|lo mismo) (?:vivir o morir|si vivo o (?:si )?muero|si me muero)"
        r"|(?:ya no|no|pronto no) (?:sere|voy a ser) (?:una carga|un problema|un estorbo)"
        r"|ya no (?:estare|voy a estar)(?! en (?:la|el|casa|clase)\b)(?! (?:\w+ ){0,3}(?:hasta"
        r"|vacaciones|viaje))"
        r"|(?:pronto|ya) (?:estare|voy a estar|me reunire|me voy a reunir|nos veremos) con"
        r" (?:mi|mis|el|la) \w+ (?:en el cielo|del otro lado|alla arriba)"
        r"|(?:cuiden|cuidan|cuidenme) (?:a|de) mi (?:perro|perrita|gato|gata|hijo|hija|mama"
        r"|familia) (?:por mi|cuando ya no|cuando no)"
        r"|les dejo (?:todas )?mis cosas|ya no (?:les|te) voy a (?:molestar|dar problemas)"
        r"|ya (?:elegi|escogi|tengo) (?:el dia|la fecha)$"
        r"|suficientes (?:pastillas|pastis|medicamentos|pildoras|calmantes)"
        r"|(?:pastillas|pastis|medicamentos|pildoras|calmantes) suficientes"
        r"|(?:planeando|planeo|planear|preparando|preparo|organizando) (?:mi|el) suicidio"
        r"|mi suicidio(?! (?:fallido|frustrado))",
        negatable=False,
    ),
    _p(
        r"me (?:hice|hago|he hecho) (?:\w+ )?(?:cortes|heridas|quemaduras)"
        r"|(?:rayarme|me raye|me rayo) (?:el|los|la|las) (?:brazo|brazos|muneca|munecas|pierna"
        r"|piernas|piel)|tengo cortes (?:nuevos|frescos|recientes)",
    ),
    _p(
        r"(?:pensamientos|ideas|ideacion|ideaciones|intencion|intenciones|plan|planes|ganas)"
        r" (?:suicidas?|de (?:morir|morirme|matarme|suicidarme|suicidio|quitarme la vida"
        r"|muerte|no estar|desaparecer|acabar con (?:todo|mi vida)))"
        r"|la ideacion (?:esta|va|sigue)|soy suicida|estoy suicida|me siento suicida"
    ),
    _p(
        r"(?:pienso|pensando|pense|piense) (?:seriamente |mucho |todo el dia |cada dia )?en"
        r" (?:el suicidio|suicidarme|matarme|morirme|quitarme la vida|acabar con (?:todo|mi vida"
        r"|esto)|no (?:estar|despertar|seguir|existir)|desaparecer)"
    ),
    _p(
        r"(?:acabar|terminar) con (?:mi vida|todo de una vez|esto de una vez|todo esto de una vez"
        r"|mi existencia)|(?:poner|ponerle) fin a (?:mi vida|todo|mi existencia)"
    ),
    # Killing oneself, said with no verb of wanting: "lo único que queda es matarme",
    # "el viernes me quito la vida", "he pensado en suicidarme".
    _p(
        r"matarme|suicidarme|suicidandome|quitarme la vida|me quito la vida|ahorcarme|me ahorco"
        r"|envenenarme|cortarme las venas|me corto las venas|pegarme un tiro|me pego un tiro"
        r"|(?:me voy a|voy a) (?:ahorcar|envenenar|colgar)"
        r"|(?<!estoy que )(?:tirarme|lanzarme|aventarme|me tiro|me lanzo|me aviento|me voy a tirar"
        r"|me voy a aventar|me voy a lanzar) (?:de|del|desde|por|a|al|bajo) (?:un |una |el |la"
        r" |las |los )?(?:puente|azotea|edificio|balcon|vias|tren|metro|acantilado|viaducto|techo"
        r"|terraza|rio|mar|barranco|precipicio|coche|carro|camion|auto)",
        unless_after=re.compile(
            r" (?:estudiando|trabajando|entrenando|corriendo|en el gym|en el gimnasio"
            r"|a (?:trabajar|estudiar|entrenar)|de (?:risa|trabajo|hambre)"
            r"|por (?:un|una|el|la|ver|ir|terminar))\b"
        ),
    ),
    _p(
        r"me (?:corto|quemo|golpeo|lastimo|hago dano|rasguno) (?:\w+ ){0,2}(?:todas las noches"
        r"|todos los dias|cada noche|cada dia|a diario|seguido|mas hondo|mas profundo)"
        r"|cada vez mas (?:hondo|profundo)",
    ),
    _p(
        r"ojala me (?:diera|de|pegara|atropell\w*|pasara|toque|tocara|muera|muriera|lleve"
        r"|llevara) (?:un|una|algo|el|la)\b(?! (?:\w+ ){0,2}(?:suerte|premio|loteria|trabajo"
        r"|beca|abrazo|beso|aumento))",
        negatable=False,
    ),
    # Passive wishes: not to wake up, not to exist, no sense in going on.
    _p(
        r"(?:no|ya no|nunca mas) (?:quiero|kiero|deseo|tengo ganas de|me dan ganas de)"
        r" (?:seguir(?: viviendo| aqui| asi| adelante)?|vivir|estar viv[oa]|existir|estar aqui"
        r"|estar$"
        r"|despertar|amanecer|seguir existiendo|estar en este mundo)(?! (?:con|en|sin|asi|aqui"
        r"|alli|ahi|cerca|lejos|para)\b)",
        negatable=False,
    ),
    _p(
        r"(?:ojala|quisiera|me gustaria|deseo|espero|pido) (?:que )?"
        r"(?:(?:me )?(?:dormir\w*|durmier\w*|duerma\w*) y )?"
        r"(?:no (?:despertar\w*|volver a despertar|amanecer|existir|haber nacido)"
        r"|nunca (?:despertar\w*|haber nacido)|morir\w*|desaparecer\w*|no (?:estar|seguir) aqui"
        r"|dejar de existir|no hubiera nacido|no me (?:deje|dejes) (?:amanecer|despertar))",
        negatable=False,
    ),
    _p(r"no me deje amanecer|no volver a despertar|para no despertar", negatable=False),
    _p(
        r"(?:que|cual es el|no (?:le )?(?:veo|tiene|encuentro)(?: el| ningun)?) (?:sentido|caso)"
        r" (?:tiene|de|a|en)? ?(?:seguir|vivir|la vida|mi vida|existir|todo esto|seguir aqui"
        r"|estar vivo|estar viva|nada)|que sentido tiene$|para que seguir|no le veo sentido"
        r"|(?:no|ya no) tiene (?:caso|sentido) (?:seguir|vivir|estar aqui|existir|nada)",
        negatable=False,
    ),
    _p(
        r"(?:cansad[oa]|harta|harto|agotad[oa]) de (?:vivir|existir|estar viv[oa]|la vida|seguir"
        r" viv[oa])|(?:prefiero|preferiria) (?:no existir|no estar|estar muert[oa]|morir\w*)"
        r"|me da igual (?:morir\w*|vivir|si vivo|si muero)|si me muriera"
        r"|(?:lo mejor|mejor) (?:seria|es) (?:no estar|no existir|desaparecer|morir\w*"
        r"|dejar de (?:estar|existir))|dejar de (?:estar|existir|respirar)$"
        r"|no (?:tengo|me quedan) ganas de (?:nada )?(?:ni de )?vivir|ni de vivir"
        r"|no quiero seguir|no puedo (?:seguir|mas) (?:asi )?(?:viviendo|con esta vida)",
        negatable=False,
    ),
    _p(r"estaria(?:n|mos)? mal que (?:la baranda|el avion|el coche|el carro) ", negatable=False),
    _p(
        r"(?:deseando|deseo|ojala) (?:que )?(?:se (?:caiga|estrelle|choque)|me (?:atropell\w*"
        r"|pase algo|muera|lleve|toque))|ojala (?:estuviera|estuviese) muert[oa]"
    ),
    _p(
        r"(?:si|ojala|que) dios me (?:lleva|llevara|llevase|recoge|recogiera)"
        r"|mi vida no (?:vale|sirve) (?:nada|para nada|la pena)|(?:la vida|vivir|seguir) no vale"
        r" la pena|no vale la pena (?:vivir|seguir|estar vivo|estar viva)",
        negatable=False,
    ),
    _p(r"no me importaria (?:que me pasara algo|morir\w*|no despertar|no volver)"),
    # Being a burden, others better off, not being around.
    _p(
        r"(?:estarian|estaran|estarias|vivirian|viviran|van a estar|van a vivir|estaria)"
        r" mejor que conmigo|ya no (?:va|van|vas) a tener que (?:preocupar\w*|cargar|aguantar\w*"
        r"|cuidar\w*) (?:por|conmigo|de) mi|(?:voy|iba) a descansar (?:de verdad|para siempre"
        r"|en paz|por fin)|descansar para siempre|(?:que|ojala) se apag\w* todo"
        r"|(?:estarian|estaran|estarias|vivirian|viviran|van a estar|van a vivir|estaria|serian"
        r"|seria|serias|seran|vivirias)"
        r" (?:\w+ )?(?:mejor|mas tranquil[oa]s?|mas felices) (?:\w+ )?(?:sin mi|si (?:yo )?no"
        r" (?:existiera|estuviera))|si (?:yo )?no existiera|mejor(?:es)? sin mi"
        r"|(?:dejare|dejar|voy a dejar) de (?:ser una carga|molestar|estorbar|ser un problema)"
        r"|no (?:voy a|vas a) (?:ser (?:un )?(?:problema|carga|estorbo)|molestar) (?:para|a|de)"
        r" (?:nadie|ustedes|mi familia)|ya no (?:voy a|vas a) (?:molestar|ser un problema)"
        r"|soy una carga|sobro en (?:todos lados|todas partes|este mundo|el mundo)"
        r"|(?:no creo que|dudo que) (?:siga|este) (?:aqui|viv[oa]|vivo) (?:para|en|el)"
        r"|no (?:me esperen|me busquen|hace falta que me guarden)(?!(?: \w+){0,6} (?:hasta|para"
        r" (?:cenar|comer)|a (?:cenar|comer)|despiert\w+|vacaciones|de vacaciones))"
        r"|(?:ya no|no) voy a estar (?:aqui|para|en|mas)|cuando ya no este|cuando yo (?:falte"
        r"|no este|ya no este)|antes de irme(?! a| de viaje| al)"
        r"|me (?:esta|estan) esperando del otro lado|(?:perdonen|perdon|perdoname|perdonenme)"
        r" (?:por )?lo que (?:voy a hacer|viene|estoy por hacer|voy a)",
        negatable=False,
    ),
    _p(r"salida (?:\w+ ){0,5}definitiva|(?:el dolor|todo) se acaba (?:este|esta|el|hoy|manana)"),
    # Plans: method, place, time, means.
    _p(
        r"(?:lo hago|lo voy a hacer|voy a hacerlo|me tiro|me voy a tirar|lo hare)"
        r" (?:esta noche|hoy|manana|el (?:lunes|martes|miercoles|jueves|viernes|sabado|domingo)"
        r"|este finde|de (?:la|el) (?:azotea|puente|edificio|viaducto|balcon|terraza))"
        r"|(?:ya )?se (?:como|cuando|donde) (?:lo voy a hacer|voy a hacerlo|hacerlo)"
        r"|(?:cuantas|cuanta|cuantos) (?:pastillas|insulina|pastis|gramos|mg) (?:\w+ ){0,2}"
        r"(?:hacen falta|necesito|alcanza|bastan|para (?:morir|no despertar))"
        r"|(?:llena de|lleno de|junte|juntando|guardo|guardando|acumul\w+) (?:\w+ ){0,3}"
        r"(?:pastillas|pastis|medicamentos|clonazepam|pastas)"
        r"|tomarme (?:todas )?(?:las|todas las) (?:pastillas|pastis)"
        r"|compre (?:veneno|una soga|una cuerda)|(?:la|una) soga(?! al cuello)"
        r"|cargue (?:el arma|la pistola)"
        r"|(?:estrellar|estrellarme|tirarme|lanzarme|aventarme) (?:\w+ ){0,3}(?:contra|de|desde"
        r"|por|al|a las) (?:un|una|el|la|las|los)? ?(?:muro|pared|puente|azotea|vias|tren"
        r"|acantilado|edificio|viaducto|balcon|rio|barranco)"
        r"|me voy (?:a las vias|al acantilado|al puente|al viaducto)"
        r"|(?:noche|hoy|manana|lunes|martes|miercoles|jueves|viernes|sabado|domingo|finde"
        r"|madrugada) (?:si |ya )?lo (?:voy a hacer|hago|hare)$"
        r"|(?:arma|pistola|revolver|escopeta)(?: \w+){0,5} (?:cargue|cargada|cargado)"
        r"|(?:guardo|guardando|junto|juntando)(?: \w+){0,4} en vez de tomar\w*",
    ),
    # Preparing: letters, goodbyes, giving away, affairs in order.
    _p(
        r"(?:escribi|deje|termine|tengo escrita|ya tengo|he escrito) (?:\w+ ){0,2}(?:carta|cartas"
        r"|nota) (?:de despedida|(?:a|para) mi (?:madre|padre|mama|papa|hermano|hermana|familia)"
        r"|en la mesa)"
        r"|(?:deje|dejo) la nota|carta de despedida|(?:ya )?me despedi de todos"
        r"|me despedi de (?:\w+ ){0,3}sin que"
        r"|(?:yo )?ya me despido|(?:me despido|despedirme) (?:de todos|de ustedes|para siempre)"
        r"|(?:regalando|regale|repartiendo|reparti) (?:toda )?(?:mi ropa|mis cosas|mis libros"
        r"|mis pertenencias|todo lo que tengo)"
        r"|(?:deje|dejo|ya esta) todo (?:listo|arreglado|en orden|atado|pagado)(?! para\b)"
        r"|(?:ya )?(?:puedo|me puedo) ir(?:me)? tranquil[oa]|para despues(?: de mi)?$"
        r"|(?:es|sera) para siempre$|va a pasar pronto|ya solo falta una cosa"
        r"|mi ultimo mensaje|una ultima vez",
        negatable=False,
        unless_after=re.compile(
            r" (?:de|del|para) (?:un |una |el |la |su |mi )?(?:personaje|protagonista|novela"
            r"|libro|cuento|obra|pelicula|serie|clase|taller|trabajo|tarea)\b"
        ),
    ),
    # Self-harm, now or again.
    _p(rf"{_WANT} {_HARM}|{_WANT_ME} {_HARM_ME}", unless_after=_NOT_SELF_HARM_AFTER),
    _p(
        r"(?:volvi|vuelvo|he vuelto) a (?:cortarme|hacerme dano|autolesionarme|lastimarme"
        r"|quemarme|golpearme|las autolesiones|los cortes|el cutting|hacerlo)"
        r"|(?:volvi|vuelvo) al cutting|me (?:volvi|vuelvo) a (?:cortar|lastimar|quemar|hacer dano)"
        r"|me (?:corte|corto|quemo|queme|golpeo|golpee|rasco|lastimo|lastime|arranque|arranco)"
        r" (?:mas|otra vez|de nuevo|hoy|anoche|los brazos|las piernas|los muslos|en los"
        r"|en las|en el|en la|la piel|la cabeza|contra|hasta)"
        r"|me (?:di|doy) contra la pared|hasta (?:sangrar|que (?:sangre|me salio|me sale))"
        r"|(?:mechero|encendedor|cigarro|hoja|cuchilla|navaja|gillette) (?:contra|en) (?:la|mi)"
        r" (?:piel|brazo|muneca)|(?:tengo|agarre) (?:la|una) (?:hoja|cuchilla|navaja)"
        r"|(?:hay|tengo) sangre|no deja de sangrar|(?:las )?ganas de autolesion\w*",
        unless_after=_NOT_SELF_HARM_AFTER,
    ),
    _p(
        r"me (?:corte|corto|queme|quemo|golpee|golpeo|hice dano|hago dano|lastime|lastimo|pegue"
        r"|pego|arranque|arranco|rasgue|rasguno|rasguñe)(?: \w+){0,6} a proposito"
        r"|me (?:queme|quemo|quemaba) con (?:el|un|los|mi) (?:cigarro|cigarrillo|mechero"
        r"|encendedor|plancha|cerillo|fosforo)s?"
        r"|me (?:estoy|sigo) (?:cortando|lastimando|quemando|haciendo dano|autolesionando)"
        r"|me autolesion[eo]\b",
    ),
    _p(
        r"(?:sh|cutting) otra vez|lo volvi a hacer|adios a la racha|quiero castigarme"
        r"|(?:se|se bien|ya se) lo que voy a hacer con (?:la|el|las|los) (?:hoj\w+|cuchill\w+"
        r"|navaj\w+|pastillas|soga|cuerda|arma)",
    ),
    # Can't go on.
    _p(
        r"no (?:aguanto|puedo) mas(?: con (?:esto|todo|mi vida|la vida))?$"
        r"|no se si aguanto (?:la noche|hasta manana|mas)",
        negatable=False,
    ),
)

# Every pattern in one alternation: a clause that matches none is passed over in one scan.
# (Every pattern starts with a word character; saying so first lets the engine skip the
# spaces between words without trying the alternation there, about three times faster.)
_ANY_PATTERN = re.compile(
    r"(?=\w)(?:" + "|".join(f"(?:{regex.pattern})" for regex, _, _ in _PATTERNS) + ")"
)

# How far back (in characters) a match looks for a negation or someone else's words.
_LOOK_BACK = 200


# Just before a phrase, words that make it someone else's ("tiene ganas de morir", "se va a
# matar", "si te quieres cortar"): Spanish says the person in the verb and its pronoun.
_OTHER_BEFORE = frozenset(
    {
        "tiene", "tienen", "quiere", "quieren", "piensa", "piensan", "va", "van", "estan", "se",
        "le", "les", "su", "sus", "ella", "ellos", "ellas", "usted", "tu", "te", "tienes",
        "quieres", "vas", "estas", "piensas", "alguien",
    }
)  # fmt: skip


# Two words back, a verb in the third or second person makes an infinitive someone else's:
# "mi jefe va a matarme", "amenaza con matarse", "si quieres hacerte daño".
_OTHER_VERB_BEFORE = frozenset(
    {
        "va", "van", "vas", "quiere", "quieren", "quieres", "piensa", "piensan", "piensas",
        "intenta", "intentan", "intentas", "amenaza", "amenazan", "amenazo", "puede", "pueden",
        "podria", "podrian", "tiene", "tienen", "tienes", "iba", "iban", "ibas",
        "alguien", "quien", "quienes",  # "acompañar a alguien con ideas suicidas"
    }
)  # fmt: skip


def _someone_else(before: list[str]) -> bool:
    if not before:
        return False
    return before[-1] in _OTHER_BEFORE or bool(_OTHER_VERB_BEFORE.intersection(before[-2:]))


# "no estoy pensando en matarme", "no tengo ganas de hacerme daño": a negation further back.
_NEGATED_VERB = re.compile(
    r"\b(?:no|nunca|jamas) (?:estoy|estaba|he estado|ando|tengo|siento|pienso|planeo|voy|he)"
    r"(?: \w+){0,2}$|\bni se me (?:pasa|ha pasado|paso|cruza|ocurre)(?: \w+){0,3}$"
)


def _negated(before: list[str]) -> bool:
    if _NEGATIONS.intersection(before[-3:]):
        return True
    return _NEGATED_VERB.search(" ".join(before[-7:])) is not None


def _match(clause: str, set_aside: set[str] | None = None) -> CrisisMatch | None:
    if _ANY_PATTERN.search(clause) is None:
        return None
    if _PAST.search(clause):
        if set_aside is not None:
            set_aside.add("past")
        return None
    for regex, negatable, unless_after in _PATTERNS:
        for match in regex.finditer(clause):
            window = clause[max(0, match.start() - _LOOK_BACK) : match.start()]
            why = None
            before = window.split()
            if _someone_else(before):
                why = "someone else"
            elif negatable and _negated(before):
                why = "denied"
            elif unless_after is not None and unless_after.match(clause, match.end()):
                why = "figure of speech"
            elif _REPORTED.search(window):
                why = "reported"
            if why is None:
                return CrisisMatch(match.group())
            if set_aside is not None:
                set_aside.add(why)
    return None


def find_spanish(text: str) -> CrisisMatch | None:
    """The first phrase in `text` that the Spanish rules read as a first-person crisis.
    Call it on text that `may_be_spanish`; it reads any text, but is tuned for Spanish."""
    clauses = list(_clauses(text))
    joking = _LAUGHTER.search(text.casefold()) is not None
    for number, clause in enumerate(clauses):
        if (found := _match(clause)) is None:
            continue
        if number and _REPORTS_NEXT.search(clauses[number - 1][-24:]):
            continue  # 'mi amiga me escribió: "me quiero morir"' is her words
        if joking and _HYPERBOLE.search(found.phrase):
            continue  # "si me piden otro informe me pego un tiro, jaja"
        return found
    return _farewell(clauses)


# Laughter beside the stock exaggerations makes them a joke; beside anything else (a plan,
# pills, a letter) it is not enough to set the words aside: people laugh bitterly too.
_LAUGHTER = re.compile(
    r"\b(?:ja(?:ja)+j?|je(?:je)+|ji(?:ji)+|xd+|lol|lmao)\b|[\U0001F602\U0001F923\U0001F605\U0001F606]"
)
_HYPERBOLE = re.compile(
    r"me (?:pego|pegue) un tiro|(?:me tiro|tirarme) (?:por|del|de|desde) (?:el |la )?(?:balcon"
    r"|puente|ventana)|me corto las venas|(?:me )?quiero (?:morir|desaparecer)|me muero"
)


# A clause that ends by introducing someone else's words: the next clause is theirs.
_REPORTS_NEXT = re.compile(
    r"\b(?:dice|dijo|dicen|dijeron|escribio|escribe|publico|puso|pone|mando|manda|grita|grito"
    r"|contesto|respondio|decia)(?: que)?$"
)
# A goodbye alone is ordinary ("adiós, me voy a dormir"); beside thanks, apologies and love
# for everyone, with nothing that says until when, it sounds like a last message.
_FAREWELL = re.compile(
    r"^(?:(?:bueno|pues|en fin) )?(?:adios|chau|chao|hasta siempre|me despido)(?: (?:a todos"
    r"|a todas|para siempre|mundo|amigos|de todos|de ustedes))?$"
)
_FAREWELL_CONTEXT = re.compile(
    r"\b(?:perdon(?:enme|ame)? por todo|los quiero (?:mucho|a todos)|los amo|gracias por todo"
    r"|cuidense (?:mucho)?$|lo siento mucho|lo siento por todo)\b"
)
_NOT_FINAL = re.compile(
    r"\b(?:manana|nos vemos|dormir|buenas noches|vacaciones|hasta luego|hasta pronto|luego"
    r"|lunes|martes|miercoles|jueves|viernes|sabado|domingo|semana|mes|trabajo|viaje|volvere"
    r"|vuelvo|regreso)\b"
)


def _farewell(clauses: list[str]) -> CrisisMatch | None:
    farewells = [clause for clause in clauses if _FAREWELL.match(clause)]
    if not farewells or any(_NOT_FINAL.search(clause) for clause in clauses):
        return None
    for clause in clauses:
        if (context := _FAREWELL_CONTEXT.search(clause)) is not None:
            return CrisisMatch(f"{context.group()} ... {farewells[-1]}")
    return None


def set_aside_spanish(text: str) -> set[str]:
    """Why the Spanish rules set aside crisis phrases in `text` ("denied", "past",
    "reported", "figure of speech"); empty when there were none or one counted."""
    set_aside: set[str] = set()
    for clause in _clauses(text):
        if _match(clause, set_aside) is not None:
            return set()
        if _THREATENED.search(clause):
            set_aside.add("someone else")
    return set_aside


# Someone else "killing" the writer: a scolding to come, not the writer's intent ("mis papás
# me van a matar cuando vean las notas"). The rules don't read it as a crisis; this says so to
# the model, which would otherwise weigh "matar" alone.
_THREATENED = re.compile(r"\bme (?:va|van|vas|vais|iba|iban) a (?:matar|asesinar|colgar)\b")

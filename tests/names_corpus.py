"""An English and a Spanish text about the same news, for the name-protection tests.

They write Sonora, Lobo, Tierra Caliente and Polonia as names, "wolf" and "paz"
as words, and Warsaw / Varsovia each in its own language, so that the index's
evidence (`search.case_vocabulary`) has something to say about every case.
"""

from __future__ import annotations

from search.case_vocabulary import InMemoryCaseVocabulary

__all__ = ["ENGLISH", "SPANISH", "vocabulary_of_both"]

ENGLISH = (
    "Sonora declares drought emergency\n\n"
    "HERMOSILLO, Sonora — The government of Sonora declared a drought emergency on "
    "Tuesday after the dams that supply Hermosillo fell to 9 percent. Commissioner "
    "Arturo Lobo, the Guadalajara police chief, said a Mexican wolf was seen near "
    "Hermosillo, and another wolf in Chihuahua. Violence in Tierra Caliente, in "
    "Michoacán, forced families to leave. Poland and Warsaw: the capital of Poland is "
    "Warsaw, in Poland, and Polonia is a Warsaw club. A peace deal in Oaxaca was "
    "signed in the state of Oaxaca."
)
SPANISH = (
    "Sonora declara emergencia por sequía\n\n"
    "El gobierno de Sonora declaró emergencia por sequía en la capital de Sonora, dijo "
    "el comisario Arturo Lobo. La violencia en Tierra Caliente obligó a cientos de "
    "familias a dejar sus casas. En Varsovia, la capital de Polonia, llovió, y en "
    "Polonia y en Varsovia sigue lloviendo. El acuerdo de paz en Oaxaca, dijo el "
    "periodista Mario Paz."
)


def vocabulary_of_both() -> InMemoryCaseVocabulary:
    vocabulary = InMemoryCaseVocabulary()
    vocabulary.add(ENGLISH, lang="en")
    vocabulary.add(SPANISH, lang="es")
    return vocabulary

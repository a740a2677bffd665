"""Small English and Spanish fixture articles written for the tests.

Topics repeat across languages (an attack on a security chief, extortion of shop
owners, an election, a hurricane) so that inflections, accents and cross-language
matches can be checked against known answers.
"""

from __future__ import annotations

import json
from pathlib import Path

ARTICLES: dict[str, str] = {
    "en/harfuch-attack.txt": (
        "Security chief survives ambush\n\n"
        "Omar García Harfuch, the security chief of Mexico City, survived an ambush on "
        "Friday morning when gunmen opened fire on his armoured vehicle. Two bodyguards "
        "died in the attack. Officials blamed a powerful drug cartel for the assault.\n\n"
        "Police arrested twelve suspects within hours of the shooting."
    ),
    "en/hurricane.txt": (
        "Hurricane batters the Pacific coast\n\n"
        "A powerful hurricane made landfall near Acapulco overnight, flooding streets and "
        "knocking out power to thousands of homes. Forecasters warned of heavy rain and "
        "landslides in the mountains for the rest of the week."
    ),
    "en/election.txt": (
        "Voters head to the polls\n\n"
        "Millions of voters cast their ballots on Sunday in an election that will choose "
        "the next president. Turnout was high in the capital, where lines formed before "
        "dawn outside polling stations."
    ),
    "es/extorsion.txt": (
        "Comerciantes denuncian extorsiones\n\n"
        "Los comerciantes del mercado central denunciaron que un grupo criminal les exige "
        "pagos semanales. La extorsión se ha vuelto el delito más común en la zona, y "
        "muchos dueños de tiendas cerraron sus negocios por miedo a represalias."
    ),
    "es/ataque.txt": (
        "Atacan al jefe de la policía\n\n"
        "Hombres armados atacaron la camioneta blindada del secretario de seguridad en la "
        "madrugada del viernes. Dos escoltas murieron en el ataque, que las autoridades "
        "atribuyeron a un cártel del narcotráfico."
    ),
    "es/huracan.txt": (
        "Un huracán azota la costa del Pacífico\n\n"
        "Un poderoso huracán tocó tierra cerca de Acapulco durante la noche, inundó calles "
        "y dejó sin electricidad a miles de hogares. Los meteorólogos advirtieron de "
        "lluvias intensas y deslaves en la sierra durante el resto de la semana."
    ),
    "es/elecciones.txt": (
        "Los votantes acuden a las urnas\n\n"
        "Millones de votantes emitieron su voto el domingo en una elección que definirá "
        "al próximo presidente. La participación fue alta en la capital, donde se "
        "formaron filas antes del amanecer frente a las casillas."
    ),
}


# An English article quoting a Spanish tweet: its second passage is Spanish.
QUOTE_ARTICLE: dict[str, str] = {
    "id": "harfuch-quote",
    "title": "Harfuch speaks after the attack",
    "text": (
        "Harfuch speaks after the attack\n\n"
        "Omar García Harfuch, the security chief of Mexico City, spoke to reporters on "
        "Tuesday, three weeks after gunmen ambushed his armoured car in the capital.\n\n"
        "«No nos van a doblegar», escribió el secretario en sus redes sociales tras el "
        "atentado, y agradeció a los escoltas que murieron defendiendo su vida.\n\n"
        "He said the investigation into the cartel behind the ambush was making progress "
        "and that twelve suspects were already in custody."
    ),
    "lang": "en",
    "date": "2020-07-14",
    "source": "Reuters",
    "url": "https://example.org/harfuch-speaks",
}


def write_corpus(folder: Path, articles: dict[str, str] | None = None) -> Path:
    for name, text in (articles or ARTICLES).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path

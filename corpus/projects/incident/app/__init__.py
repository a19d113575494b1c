# The incident behind connlint: a server whose tools took connections through a factory and
# never closed them; only __del__ gave them back, and the pool ran dry within hours.
# confirm: none

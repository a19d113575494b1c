# An Alembic migration's session is bound to the migration's own connection (`op.get_bind()`),
# which Alembic opens and closes: the session borrows it and owns nothing. All silent.
# confirm: none
from alembic import op
from sqlalchemy import orm, text


def upgrade():
    bind = op.get_bind()
    session = orm.Session(bind=bind)
    session.execute(text("UPDATE runs SET user_id = 'unknown' WHERE user_id IS NULL"))
    session.commit()


def downgrade():
    session = orm.Session(op.get_bind())
    session.execute(text("UPDATE runs SET user_id = NULL WHERE user_id = 'unknown'"))

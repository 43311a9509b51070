"""Count the layers of a build: the reference solution."""

# RUN (a new file), COPY (a new file) and RUN (a whiteout) change files; WORKDIR /srv
# changes none (COPY made /srv); ENV, LABEL, EXPOSE and CMD change only the config.
NEW_LAYERS = 3

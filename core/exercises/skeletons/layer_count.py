"""Count the layers of a build (stepbox exercises check layer-count --dir .)."""

# FROM busybox
# ENV GREETING=hello
# LABEL course=stepbox
# RUN echo $GREETING > /greeting.txt
# COPY notes.txt /srv/
# WORKDIR /srv
# RUN rm /greeting.txt
# EXPOSE 8080
# CMD ["cat", "/srv/notes.txt"]

# Your turn: how many layers does this image have more than busybox?
NEW_LAYERS = None

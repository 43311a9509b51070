"""A Dockerfile the cache survives (stepbox exercises check build-cache --dir .)."""

# The build context holds requirements.txt and app.sh.  Every edit of app.sh makes
# the slow "install" RUN run again.  Your turn: reorder (you may split the COPY) so
# that it comes from the cache -- the image must still hold /app/app.sh.
DOCKERFILE = """\
FROM busybox
COPY . /app/
RUN cat /app/requirements.txt > /installed.txt
CMD ["sh", "/app/app.sh"]
"""

"""A Dockerfile the cache survives: the reference solution."""

# What changes least goes first: the requirements, then their install, then the source.
DOCKERFILE = """\
FROM busybox
COPY requirements.txt /app/
RUN cat /app/requirements.txt > /installed.txt
COPY app.sh /app/
CMD ["sh", "/app/app.sh"]
"""

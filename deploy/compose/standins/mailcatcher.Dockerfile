# TEST-ONLY stand-in for the mail catcher (axllent/mailpit), built from Debian's packages
# (`cargo xtask compose-test`): Postfix's smtp-sink, a real SMTP server that stores each message
# it receives as a file (Postfix itself is neither configured nor started).
FROM debian:bookworm-slim
RUN echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix \
 && rm -rf /var/lib/apt/lists/*
CMD ["/usr/sbin/smtp-sink", "-d", "/var/mail/%Y%m%d%H%M%S.", "0.0.0.0:1025", "16"]

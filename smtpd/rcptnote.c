/* rcptnote.c: what a recipient's resolution met (rcpt_event), told once:
 * the delivery side logs each event the first time a connection meets it,
 * so a bad alias is in the log when mail goes through it, once, and never
 * in every connection's start-up; smtpd -T keeps the same record of what
 * it has reported.  Runs in the delivery side and under -T. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtpd.h"

int
smtp_rcpt_seen_init(struct rcpt_seen *s, const struct aliases *al)
{
	s->al = al;
	s->bits = calloc(al->nt + al->na + 1, 1);
	return s->bits != NULL ? 0 : -1;
}

void
smtp_rcpt_seen_free(struct rcpt_seen *s)
{
	free(s->bits);
	s->bits = NULL;
}

int
smtp_rcpt_seen_first(struct rcpt_seen *s, enum rcpt_event ev,
    const struct alias *a, const struct alias_target *x)
{
	const struct aliases *al = s->al;
	unsigned char bit = (unsigned char)(1u << ev);
	size_t i;

	/* A target's events, then an alias's, then postmaster's own. */
	if (x != NULL)
		i = (size_t)(x - al->t);
	else if (a != NULL)
		i = al->nt + (size_t)(a - al->a);
	else
		i = al->nt + al->na;
	if (s->bits == NULL)
		return 1;
	if (s->bits[i] & bit)
		return 0;
	s->bits[i] |= bit;
	return 1;
}

void
smtp_rcpt_log_event(void *ctx, enum rcpt_event ev, const struct alias *a,
    const struct alias_target *x)
{
	char q[LOG_QUOTE_SIZE], n[LOG_QUOTE_SIZE];

	if (!smtp_rcpt_seen_first(ctx, ev, a, x))
		return;
	q[0] = n[0] = '\0';
	/* The file's text, quoted as any foreign text is. */
	if (x != NULL)
		log_quote(q, sizeof(q), x->name, strlen(x->name));
	if (a != NULL)
		log_quote(n, sizeof(n), a->name, strlen(a->name));
	switch (ev) {
	case RCPT_EV_UNSUPPORTED:
		log_warnx("alias=%s line=%lu target=%s skipped: %s is not "
		    "supported, never delivered", n, x->line, q,
		    smtp_alias_kind_text((enum alias_kind)x->kind));
		break;
	case RCPT_EV_DEAD:
		log_warnx("alias=%s line=%lu target=%s skipped: neither an "
		    "alias nor a user", n, x->line, q);
		break;
	case RCPT_EV_EMPTY:
		log_warnx("alias=%s line=%lu delivers to no one: refused",
		    n, a->line);
		break;
	case RCPT_EV_FANOUT:
		log_warnx("alias=%s line=%lu expands to more than %d targets: "
		    "refused", n, a->line, ALIAS_STEPS_MAX);
		break;
	case RCPT_EV_DUPLICATE:
		log_warnx("alias=%s line=%lu defined again on line %lu, which "
		    "is never used", n, a->line, a->dupline);
		break;
	case RCPT_EV_POSTMASTER:
		log_warnx("postmaster has no alias or user that takes its mail: "
		    "delivered to mailbox=postmaster, which no POP3 login can "
		    "fetch (smtpd -T says more)");
		break;
	case RCPT_EV_SYSTEM:
		/* Routed there on purpose, delivered as asked: nothing to
		 * log (-T says that no POP3 login can fetch it). */
		break;
	case RCPT_EV__COUNT:
		break;
	}
}

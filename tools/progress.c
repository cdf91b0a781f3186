/* A progress bar on the terminal for long conversions. */

#include "config.h"

#include <string.h>
#include <time.h>

#include "progress.h"

#define PROGRESS_WIDTH		30	/* characters of bar */
#define PROGRESS_EVERY_MS	200	/* between redraws */
#define PROGRESS_AFTER_MS	500	/* nothing for a short conversion */

/* Milliseconds on the monotonic clock. */
static int64_t
progress_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Draw on f (NULL: never) the progress through total units of work; at
 * once if asked for, else only when the work lasts (on a terminal).
 */
void
progress_init(struct progress *p, FILE *f, const char *prog, uint64_t total,
    int asked)
{
	memset(p, 0, sizeof *p);
	p->f = total > 0 ? f : NULL;
	p->prog = prog;
	p->total = total;
	p->next_ms = progress_now() + (asked ? 0 : PROGRESS_AFTER_MS);
}

/* done units of the total are done: redraw, now and then. */
void
progress_update(struct progress *p, uint64_t done)
{
	char		bar[PROGRESS_WIDTH + 1];
	int64_t		now;
	unsigned int	fill;

	if (p->f == NULL || (now = progress_now()) < p->next_ms)
		return;
	p->next_ms = now + PROGRESS_EVERY_MS;
	if (done > p->total)
		done = p->total;
	fill = (unsigned int)(done * PROGRESS_WIDTH / p->total);
	memset(bar, '#', fill);
	memset(bar + fill, ' ', PROGRESS_WIDTH - fill);
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(p->f, "\r%s: [%s] %3u%% %llu of %llu MB", p->prog, bar,
	    (unsigned int)(done * 100 / p->total),
	    (unsigned long long)(done / 1000000),
	    (unsigned long long)((p->total + 999999) / 1000000));
	fflush(p->f);
	p->shown = 1;
}

/* Clear the bar, so that what follows starts on a clean line. */
void
progress_done(struct progress *p)
{
	if (p->f != NULL && p->shown) {
		fprintf(p->f, "\r%*s\r", PROGRESS_WIDTH + 40, "");
		fflush(p->f);
	}
	p->shown = 0;
}

/* The launcher as the run's collector: rings drained while it waits. */
#ifndef TAPSHIM_COLLECT_RUN_H
#define TAPSHIM_COLLECT_RUN_H

#include "collector.h"
#include "conf.h"

struct collrun {
	struct collector	*c;		/* NULL: direct mode */
	int			 timeout;	/* the next poll's, ms */
	int			 said;		/* a write error was said */
	int			 done;		/* closed: st holds its figures */
	struct collector_stats	 st;
};

int	collrun_open(struct collrun *, const char *, enum conf_format, int);
void	collrun_pump(struct collrun *);
void	collrun_close(struct collrun *);
void	collrun_report(const struct collrun *);
void	collrun_child(void);

#endif

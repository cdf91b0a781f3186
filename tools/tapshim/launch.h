/* Running the traced program and waiting for it, as a shell would. */
#ifndef TAPSHIM_LAUNCH_H
#define TAPSHIM_LAUNCH_H

#define LAUNCH_CANNOT_RUN	126	/* found, but could not be run */
#define LAUNCH_NOT_FOUND	127	/* no such program */

struct collrun;

int	launch_run(char **, int *, struct collrun *);
void	launch_stdout_to_stderr(void);

#endif

/* A tool's messages on stderr: "prog: what", notices unless quiet. */
#ifndef TAPSHIM_MSG_H
#define TAPSHIM_MSG_H

extern const char	*msg_prog;

void	msg_init(const char *);
void	msg_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_notice(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

/* tapdump --summary: requests per method and URL, with latency quantiles. */

#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "dump-req.h"

#define SUM_BUCKETS	1024

/* One method+scheme://authority/path (the query left out). */
struct sum_key {
	char		*method;
	char		*url;
	size_t		 count;
	size_t		 status[6];	/* none, 1xx .. 5xx */
	uint64_t	 bytes;		/* request and response bodies */
	int64_t		*lat;		/* total ns, of the complete ones */
	size_t		 nlat;
	size_t		 caplat;
	size_t		 order;		/* first seen */
	struct sum_key	*next;
};

struct dump_req_sum {
	struct sum_key	*bucket[SUM_BUCKETS];
	size_t		 nkeys;
};

/* FNV-1a over the method and the URL. */
static unsigned int
sum_hash(const char *m, const char *u)
{
	uint32_t	h = 2166136261u;

	for (; *m; m++)
		h = (h ^ (uint8_t)*m) * 16777619u;
	for (; *u; u++)
		h = (h ^ (uint8_t)*u) * 16777619u;
	return (h % SUM_BUCKETS);
}

/* The record's key, made when new. */
static struct sum_key *
sum_get(struct dump_req_sum *s, const char *method, const char *url)
{
	struct sum_key	*k;
	unsigned int	 h = sum_hash(method, url);

	for (k = s->bucket[h]; k != NULL; k = k->next)
		if (strcmp(k->method, method) == 0 && strcmp(k->url, url) == 0)
			return (k);
	if ((k = calloc(1, sizeof *k)) == NULL)
		return (NULL);
	k->method = strdup(method);
	k->url = strdup(url);
	if (k->method == NULL || k->url == NULL) {
		free(k->method);
		free(k->url);
		free(k);
		return (NULL);
	}
	k->order = s->nkeys++;
	k->next = s->bucket[h];
	s->bucket[h] = k;
	return (k);
}

/* Count a record under its key. */
int
dump_sum_add(struct dump_req *d, const struct req_record *r)
{
	struct sum_key	*k;
	int64_t		*n;
	char		 url[2048];
	size_t		 cap;

	if (d->sum == NULL && (d->sum = calloc(1, sizeof *d->sum)) == NULL)
		return (-1);
	dump_req_url(r, url, sizeof url);
	url[strcspn(url, "?")] = '\0';
	if ((k = sum_get(d->sum, r->method, url)) == NULL)
		return (-1);
	k->count++;
	k->status[r->status >= 100 && r->status < 600 ? r->status / 100 : 0]++;
	k->bytes += r->req_body_size + r->resp_body_size;
	if (!r->complete || r->resp_end == 0 || r->req_start == 0)
		return (0);
	if (k->nlat == k->caplat) {
		cap = k->caplat ? k->caplat * 2 : 16;
		if ((n = reallocarray(k->lat, cap, sizeof *n)) == NULL)
			return (-1);
		k->lat = n;
		k->caplat = cap;
	}
	k->lat[k->nlat++] = r->resp_end - r->req_start;
	return (0);
}

static int
sum_cmp_lat(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Most requests first; ties in the order first seen. */
static int
sum_cmp_key(const void *a, const void *b)
{
	const struct sum_key	*x = *(struct sum_key * const *)a;
	const struct sum_key	*y = *(struct sum_key * const *)b;

	if (x->count != y->count)
		return (x->count < y->count ? 1 : -1);
	return (x->order < y->order ? -1 : x->order > y->order);
}

/* The nearest-rank quantile q (0..100) of the sorted latencies, in ms. */
static double
sum_q(const struct sum_key *k, int q)
{
	size_t	i;

	if (k->nlat == 0)
		return (-1);
	i = (k->nlat * (size_t)q + 99) / 100;
	i = i > 0 ? i - 1 : 0;
	return (k->lat[i < k->nlat ? i : k->nlat - 1] / 1e6);
}

static json_object *
sum_json_ms(double v)
{
	char	buf[32];

	if (v < 0)
		return (NULL);
	snprintf(buf, sizeof buf, "%.3f", v);
	return (json_object_new_double_s(strtod(buf, NULL), buf));
}

static void
sum_json(struct dump_req *d, struct sum_key **keys, size_t n)
{
	json_object	*top = json_object_new_object(), *a, *o, *st;
	static const char *names[] = { "none", "1xx", "2xx", "3xx", "4xx",
	    "5xx" };
	size_t		 i, j;

	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "method",
		    json_object_new_string(keys[i]->method));
		json_object_object_add(o, "url",
		    json_object_new_string(keys[i]->url));
		json_object_object_add(o, "count",
		    json_object_new_uint64(keys[i]->count));
		st = json_object_new_object();
		for (j = 0; j < 6; j++)
			json_object_object_add(st, names[j],
			    json_object_new_uint64(keys[i]->status[j]));
		json_object_object_add(o, "status", st);
		json_object_object_add(o, "p50_ms", sum_json_ms(sum_q(keys[i],
		    50)));
		json_object_object_add(o, "p90_ms", sum_json_ms(sum_q(keys[i],
		    90)));
		json_object_object_add(o, "p99_ms", sum_json_ms(sum_q(keys[i],
		    99)));
		json_object_object_add(o, "max_ms", sum_json_ms(sum_q(keys[i],
		    100)));
		json_object_object_add(o, "bytes",
		    json_object_new_uint64(keys[i]->bytes));
		json_object_array_add(a, o);
	}
	json_object_object_add(top, "summary", a);
	fprintf(d->out, "%s\n", json_object_to_json_string_ext(top,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
}

static void
sum_text(struct dump_req *d, struct sum_key **keys, size_t n)
{
	struct sum_key	*k;
	size_t		 i;

	fprintf(d->out, "%6s  %-4s %-4s %-4s %-4s %-4s %-4s  %9s %9s %9s "
	    "%9s  %10s  %s\n", "count", "2xx", "3xx", "4xx", "5xx", "1xx",
	    "none", "p50 ms", "p90 ms", "p99 ms", "max ms", "bytes",
	    "request");
	for (i = 0; i < n; i++) {
		k = keys[i];
		fprintf(d->out, "%6zu  %-4zu %-4zu %-4zu %-4zu %-4zu %-4zu  "
		    "%9.3f %9.3f %9.3f %9.3f  %10" PRIu64 "  %s %s\n",
		    k->count, k->status[2], k->status[3], k->status[4],
		    k->status[5], k->status[1], k->status[0], sum_q(k, 50),
		    sum_q(k, 90), sum_q(k, 99), sum_q(k, 100), k->bytes,
		    k->method, k->url);
	}
}

/* The table, most requested first. */
void
dump_sum_print(struct dump_req *d)
{
	struct sum_key	**keys, *k;
	size_t		  i, n = 0;

	if (d->sum == NULL) {
		if (d->json)
			fprintf(d->out, "{\n  \"summary\": [ ]\n}\n");
		return;
	}
	if ((keys = calloc(d->sum->nkeys, sizeof *keys)) == NULL)
		return;
	for (i = 0; i < SUM_BUCKETS; i++)
		for (k = d->sum->bucket[i]; k != NULL; k = k->next) {
			if (k->nlat > 0)
				qsort(k->lat, k->nlat, sizeof *k->lat,
				    sum_cmp_lat);
			keys[n++] = k;
		}
	if (n > 0)
		qsort(keys, n, sizeof *keys, sum_cmp_key);
	if (d->json)
		sum_json(d, keys, n);
	else
		sum_text(d, keys, n);
	free(keys);
}

void
dump_sum_free(struct dump_req *d)
{
	struct sum_key	*k, *next;
	size_t		 i;

	if (d->sum == NULL)
		return;
	for (i = 0; i < SUM_BUCKETS; i++)
		for (k = d->sum->bucket[i]; k != NULL; k = next) {
			next = k->next;
			free(k->method);
			free(k->url);
			free(k->lat);
			free(k);
		}
	free(d->sum);
	d->sum = NULL;
}

/*
 * semver: see semver.h. Numbers are compared as digit strings so that no
 * version is too large to order.
 */
#include "semver.h"

#include <ctype.h>
#include <string.h>

static int is_numeric(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return len > 0;
}

static int compare_numbers(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	int c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

/* Splits off the next identifier ending at one of `stops`. */
static size_t ident_len(const char *s, const char *stops)
{
	size_t n = 0;
	while (s[n] && !strchr(stops, s[n]))
		n++;
	return n;
}

static int valid_ident(const char *s, size_t len, int numeric_only)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	if (is_numeric(s, len))
		return len == 1 || s[0] != '0';
	return !numeric_only;
}

static const char *skip_prefix(const char *s)
{
	return *s == 'v' ? s + 1 : s;
}

int semver_valid(const char *s)
{
	s = skip_prefix(s);
	for (int part = 0; part < 3; part++) {
		size_t n = ident_len(s, part < 2 ? "." : "-+");
		if (!valid_ident(s, n, 1))
			return -1;
		s += n;
		if (part < 2) {
			if (*s != '.')
				return -1;
			s++;
		}
	}
	if (*s == '-') {
		do {
			s++;
			size_t n = ident_len(s, ".+");
			if (!valid_ident(s, n, 0))
				return -1;
			s += n;
		} while (*s == '.');
	}
	if (*s == '+') {
		do {
			s++;
			size_t n = ident_len(s, ".");
			if (!n)
				return -1;
			for (size_t i = 0; i < n; i++)
				if (!isalnum((unsigned char)s[i]) && s[i] != '-')
					return -1;
			s += n;
		} while (*s == '.');
	}
	return *s ? -1 : 0;
}

int semver_compare(const char *a, const char *b)
{
	a = skip_prefix(a);
	b = skip_prefix(b);
	for (int part = 0; part < 3; part++) {
		size_t an = ident_len(a, ".-+"), bn = ident_len(b, ".-+");
		int c = compare_numbers(a, an, b, bn);
		if (c)
			return c;
		a += an + (a[an] == '.');
		b += bn + (b[bn] == '.');
	}
	int a_pre = *a == '-', b_pre = *b == '-';
	if (!a_pre || !b_pre)
		return a_pre == b_pre ? 0 : (a_pre ? -1 : 1);
	for (;;) {
		a++;
		b++;
		size_t an = ident_len(a, ".+"), bn = ident_len(b, ".+");
		int anum = is_numeric(a, an), bnum = is_numeric(b, bn);
		int c;
		if (anum && bnum) {
			c = compare_numbers(a, an, b, bn);
		} else if (anum != bnum) {
			c = anum ? -1 : 1;
		} else {
			size_t n = an < bn ? an : bn;
			c = memcmp(a, b, n);
			c = c ? (c < 0 ? -1 : 1) : (an == bn ? 0 : (an < bn ? -1 : 1));
		}
		if (c)
			return c;
		a += an;
		b += bn;
		int amore = *a == '.', bmore = *b == '.';
		if (!amore || !bmore)
			return amore == bmore ? 0 : (amore ? 1 : -1);
	}
}

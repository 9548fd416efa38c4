/*
 * cs_bench_simdjson.cpp - the simdjson On-Demand baseline of `cshield-bench
 * decode` (bench only: built when the simdjson package and a C++ compiler
 * are there; nothing in cshield links it).
 *
 * DESIGN: what On-Demand is good at, done its way: one document stream over
 * the NDJSON corpus (iterate_many), each object's fields walked once against
 * a trie of the format's mapped paths (nested and flat, as the decoder's
 * field map), the string at a mapped path read (unescaped) and counted, a
 * number read as a double. No normalization, no observables, and On-Demand
 * validates only what it reads: the parts of an event it skips are not
 * checked (cshield's decoder checks every byte). The corpus is copied once
 * into a padded buffer outside the measurement.
 */
#include <simdjson.h>

#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

extern "C" {
#include "cs_decode.h"
#include "cs_bench_simdjson.h"
}

using namespace simdjson;

namespace {

struct node {
	std::unordered_map<std::string_view, node *> kids;
	bool leaf = false;
};

struct trie {
	std::deque<node> nodes;
	std::deque<std::string> keys;
	node *root;
	trie() : root(&nodes.emplace_back()) {}
	node *kid(node *n, std::string_view k) {
		auto it = n->kids.find(k);
		if (it != n->kids.end())
			return it->second;
		node *c = &nodes.emplace_back();
		n->kids.emplace(keys.emplace_back(k), c);
		return c;
	}
	/* path below n, for every way of splitting it at dots (as cs_decode_map.c) */
	void insert(node *n, std::string_view path) {
		for (size_t i = 0; i <= path.size(); i++) {
			if (i < path.size() && path[i] != '.')
				continue;
			node *k = kid(n, path.substr(0, i));
			if (i == path.size())
				k->leaf = true;
			else
				insert(k, path.substr(i + 1));
		}
	}
};

struct counts {
	long found = 0;
	size_t bytes = 0;
	const char *end; /* of the corpus */
};

void walk_value(ondemand::value v, const node *n, counts &c);

void walk_object(ondemand::object obj, const node *n, counts &c) {
	for (auto field : obj) {
		ondemand::raw_json_string rk;
		if (field.key().get(rk))
			return;
		/* the raw key, compared as it is written (simdjson's advice for speed):
		 * an escaped key would not be found; the corpus has none */
		const char *k0 = rk.raw(), *k1 = (const char *)memchr(k0, '"', (size_t)(c.end - k0));
		auto it = n->kids.find(std::string_view(k0, k1 ? (size_t)(k1 - k0) : 0));
		if (it == n->kids.end())
			continue; /* skipped without being read */
		ondemand::value v;
		if (field.value().get(v))
			return;
		walk_value(v, it->second, c);
	}
}

void walk_value(ondemand::value v, const node *n, counts &c) {
	ondemand::json_type t;
	if (v.type().get(t))
		return;
	switch (t) {
	case ondemand::json_type::object: {
		ondemand::object o;
		if (!n->kids.empty() && !v.get_object().get(o))
			walk_object(o, n, c);
		break;
	}
	case ondemand::json_type::array: {
		ondemand::array a;
		if (v.get_array().get(a))
			return;
		for (auto el : a) {
			ondemand::value ev;
			if (el.get(ev))
				return;
			walk_value(ev, n, c);
		}
		break;
	}
	case ondemand::json_type::string: {
		std::string_view s;
		if (n->leaf && !v.get_string().get(s)) {
			c.found++;
			c.bytes += s.size();
		}
		break;
	}
	case ondemand::json_type::number: {
		double d;
		if (n->leaf && !v.get_double().get(d))
			c.found++;
		break;
	}
	default:
		break;
	}
}

} // namespace

struct cs_bench_sj_s {
	trie t;
	padded_string corpus;
	ondemand::parser parser;
};

extern "C" cs_bench_sj_t *cs_bench_sj_new(int fmt, const char *buf, size_t len) {
	auto *sj = new (std::nothrow) cs_bench_sj_t;
	const char *path, *kind;
	cs_obs_role_t role;
	if (!sj)
		return nullptr;
	for (size_t i = 0; cs_decode_map_entry((cs_decode_fmt_t)fmt, i, &path, &kind, &role) == 0; i++)
		sj->t.insert(sj->t.root, path);
	sj->corpus = padded_string(buf, len);
	return sj;
}

extern "C" long cs_bench_sj_pass(cs_bench_sj_t *sj, long *docs) {
	ondemand::document_stream stream;
	counts c;
	c.end = sj->corpus.data() + sj->corpus.size();
	*docs = 0;
	if (sj->parser.iterate_many(sj->corpus.data(), sj->corpus.size(), 1 << 20).get(stream))
		return -1;
	for (auto doc : stream) {
		ondemand::object obj;
		if (doc.get_object().get(obj))
			return -1;
		walk_object(obj, sj->t.root, c);
		(*docs)++;
	}
	return c.found;
}

extern "C" const char *cs_bench_sj_impl(void) {
	static std::string name;
	name = get_active_implementation()->name();
	return name.c_str();
}

extern "C" void cs_bench_sj_destroy(cs_bench_sj_t *sj) {
	delete sj;
}

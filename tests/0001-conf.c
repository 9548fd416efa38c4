/* 0001-conf: property tables, properties files, kafka.* and redis.* pass-through. */
#include "cs_test.h"
#include "cs_ingest_int.h"

int cs_test_0001(void) {
	char errstr[512], path[512];
	cs_ingest_conf_t *conf = cs_ingest_conf_new();

	CS_TEST_ASSERT(conf, "conf_new");
	/* defaults from the table */
	CS_TEST_EQ_INT(conf->window_s, 60);
	CS_TEST_EQ_INT(conf->flush_interval_ms, 1000);
	CS_TEST_EQ_STR(conf->group_id, "cshield-ingest");
	CS_TEST_EQ_STR(conf->redis.host, "127.0.0.1");
	CS_TEST_EQ_INT(conf->redis.port, 6379);

	/* own keys, typed and range-checked */
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "aggregate.window.s", "300", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(conf->window_s, 300);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "aggregate.window.s", "0", errstr, sizeof(errstr)),
		       CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "out of range"), "%s", errstr);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "flush.interval.ms", "12x", errstr, sizeof(errstr)),
		       CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "not an integer"), "%s", errstr);

	/* unknown keys are errors naming the key */
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "flush.interval", "5", errstr, sizeof(errstr)),
		       CS_ERR_CONF_UNKNOWN);
	CS_TEST_ASSERT(strstr(errstr, "\"flush.interval\""), "%s", errstr);

	/* kafka.* goes to librdkafka, which validates it */
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "kafka.fetch.wait.max.ms", "100", errstr, sizeof(errstr)), 0);
	{
		char v[64];
		size_t vs = sizeof(v);
		CS_TEST_EQ_INT(rd_kafka_conf_get(conf->kconf, "fetch.wait.max.ms", v, &vs), RD_KAFKA_CONF_OK);
		CS_TEST_EQ_STR(v, "100");
	}
	CS_TEST_ASSERT(cs_ingest_conf_set(conf, "kafka.no.such.property", "1", errstr, sizeof(errstr)),
		       "unknown kafka property accepted");
	CS_TEST_ASSERT(strstr(errstr, "kafka.no.such.property"), "%s", errstr);
	CS_TEST_ASSERT(cs_ingest_conf_set(conf, "kafka.group.id", "x", errstr, sizeof(errstr)),
		       "kafka.group.id must be refused: group.id is cshield's");
	/* redis.* has its own table */
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "redis.port", "7001", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(conf->redis.port, 7001);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "redis.timeout", "1", errstr, sizeof(errstr)),
		       CS_ERR_CONF_UNKNOWN);
	CS_TEST_ASSERT(strstr(errstr, "unknown property \"redis.timeout\""), "%s", errstr);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "redis.port", "x", errstr, sizeof(errstr)), CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "property \"redis.port\": \"x\" is not an integer"), "%s", errstr);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "decode.max.depth", "0", errstr, sizeof(errstr)), CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "property \"decode.max.depth\": 0 is out of range"), "%s", errstr);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "decode.nope", "1", errstr, sizeof(errstr)), CS_ERR_CONF_UNKNOWN);
	CS_TEST_ASSERT(strstr(errstr, "unknown property \"decode.nope\""), "%s", errstr);

	/* files: comments, blanks, white space; errors name file:line */
	snprintf(path, sizeof(path), "%s/good.conf", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "# comment\n\n  topics = a,b  \n! also a comment\n"
						"indicators.file=/x\nkafka.client.id=t1\n"), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_STR(conf->topics, "a,b");
	CS_TEST_EQ_STR(conf->indicators_file, "/x");

	snprintf(path, sizeof(path), "%s/bad.conf", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=a\n\n# c\nflush.intervall.ms=5\n"), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)), CS_ERR_CONF_UNKNOWN);
	CS_TEST_ASSERT(strstr(errstr, "bad.conf:4:") && strstr(errstr, "\"flush.intervall.ms\""), "%s", errstr);

	CS_TEST_EQ_INT(cs_test_write_file(path, "topics\n"), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)), CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "bad.conf:1:"), "%s", errstr);

	/* inline comments, a literal '#', a byte order mark, a key set twice */
	CS_TEST_EQ_INT(cs_test_write_file(path, "\xef\xbb\xbftopics=t1  # the SOC topic\n"
						"aggregate.key.prefix=cs2\t# a prefix of its own\n"
						"redis.password=pa\\#ss#not-a-comment\n"),
		       0);
	CS_TEST_EQ_INT(cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_STR(conf->topics, "t1");
	CS_TEST_EQ_STR(conf->key_prefix, "cs2");
	CS_TEST_EQ_STR(conf->redis.password, "pa#ss#not-a-comment");
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=a\nflush.interval.ms=50\ntopics=b\n"), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)), CS_ERR_CONF_VALUE);
	CS_TEST_ASSERT(strstr(errstr, "bad.conf:3: \"topics\" is set twice (line 1 and line 3)"), "%s", errstr);

	/* what the properties alone cannot say */
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "indicators.file", "/x", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_check(conf, errstr, sizeof(errstr)), 0);
	{
		static const struct {
			const char *key, *value, *says;
		} bad[] = {{"aggregate.key.prefix", "", "aggregate.key.prefix"},
			   {"aggregate.key.prefix", "a b", "aggregate.key.prefix"},
			   {"aggregate.key.prefix", "x:y", "aggregate.key.prefix"},
			   {"metrics.listen", "127.0.0.1:80x", "metrics.listen"},
			   {"metrics.listen", "localhost:9000", "not an IPv4 address"},
			   {"offsets.out.of.range", "skip", "offsets.out.of.range"},
			   {"log.level", "loud", "log.level"},
			   {"group.id", "", "group.id"}};
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			cs_ingest_conf_t *c2 = cs_ingest_conf_new();
			CS_TEST_EQ_INT(cs_ingest_conf_set(c2, "topics", "t", errstr, sizeof(errstr)), 0);
			CS_TEST_EQ_INT(cs_ingest_conf_set(c2, "indicators.file", "/x", errstr, sizeof(errstr)), 0);
			CS_TEST_EQ_INT(cs_ingest_conf_set(c2, bad[i].key, bad[i].value, errstr, sizeof(errstr)), 0);
			CS_TEST_EQ_INT(cs_ingest_conf_check(c2, errstr, sizeof(errstr)), CS_ERR_CONF_VALUE);
			CS_TEST_ASSERT(strstr(errstr, bad[i].says), "%s=%s: %s", bad[i].key, bad[i].value, errstr);
			cs_ingest_conf_destroy(c2);
		}
	}

	/* -X key=value */
	CS_TEST_EQ_INT(cs_ingest_conf_set_kv(conf, "log.level=debug", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_STR(conf->log_level, "debug");
	CS_TEST_ASSERT(cs_ingest_conf_set_kv(conf, "novalue", errstr, sizeof(errstr)), "kv without '='");

	cs_ingest_conf_destroy(conf);
	cs_ingest_conf_destroy(NULL);
	return 0;
}

# A Zeek node as the logger for brook's log writes: it listens on BROOK_ZEEK_PORT,
# subscribes to zeek/logs/, and writes what arrives for Demo::LOG with its own ASCII
# writer (demo.log). It exits 3 s after the first peer arrives. tests/logger.rs checks the file.
@load base/frameworks/logging
@load base/frameworks/broker

redef Cluster::backend = Cluster::CLUSTER_BACKEND_BROKER;
redef exit_only_after_terminate = T;

module Demo;

export {
	redef enum Log::ID += { LOG };
	type Info: record {
		n: count &log;
		msg: string &log;
		tags: set[string] &log &optional;
	};
}

global seen = F;

event do_exit() { terminate(); }

event Broker::peer_added(endpoint: Broker::EndpointInfo, msg: string)
	{
	if ( seen )
		return;
	seen = T;
	schedule 3sec { do_exit() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, [$columns=Info, $path="demo"]);
	Broker::subscribe("zeek/logs/");
	Broker::listen("127.0.0.1", to_port(getenv("BROOK_ZEEK_PORT") + "/tcp"));
	schedule 30sec { do_exit() };
	}

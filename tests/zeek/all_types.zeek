# Writes known records of every loggable type to Test::LOG (path "brook_test"), locally
# through Zeek's ASCII writer and remotely to a brook logger it peers with
# (BROOK_PORT in the environment), then exits. tests/logger.rs compares the files.
@load base/frameworks/logging
@load base/frameworks/broker

redef Cluster::backend = Cluster::CLUSTER_BACKEND_BROKER;
redef Log::enable_remote_logging = T;
redef exit_only_after_terminate = T;

module Test;

export {
	redef enum Log::ID += { LOG, LOG2 };
	type Color: enum { RED, GREEN };
	type Info: record {
		b: bool &log;
		i: int &log;
		c: count &log;
		d: double &log;
		t: time &log;
		iv: interval &log;
		s: string &log;
		a: addr &log;
		sn: subnet &log;
		p: port &log;
		e: Color &log;
		ss: set[string] &log;
		vc: vector of count &log;
		va: vector of addr &log;
		sa: set[subnet] &log;
		opt: string &log &optional;
		optv: vector of string &log &optional;
	};
	type Small: record {
		n: count &log;
		msg: string &log;
	};
}

global done = F;
global go: event();

function write_all()
	{
	Log::write(LOG, Info($b=T, $i=-42, $c=18446744073709551615, $d=3.0, $t=double_to_time(1700000000.123456),
		$iv=1.5sec, $s="hello world", $a=10.0.0.1, $sn=10.0.0.0/8, $p=80/tcp, $e=RED,
		$ss=set("a", "b,c"), $vc=vector(1, 2, 3), $va=vector(10.0.0.1, [2001:db8::1]),
		$sa=set(192.168.0.0/16), $opt="set", $optv=vector("x", "")));
	Log::write(LOG, Info($b=F, $i=9223372036854775807, $c=0, $d=-0.000001, $t=double_to_time(0.0),
		$iv=-2min, $s="", $a=[::1], $sn=[2001:db8::]/32, $p=53/udp, $e=GREEN,
		$ss=set(), $vc=vector(), $va=vector(), $sa=set()));
	Log::write(LOG, Info($b=T, $i=-9223372036854775807, $c=1, $d=1e300, $t=double_to_time(1.0e9),
		$iv=0.000001sec, $s="-", $a=255.255.255.255, $sn=0.0.0.0/0, $p=8/icmp, $e=RED,
		$ss=set("-"), $vc=vector(0), $va=vector(0.0.0.0), $sa=set([::]/0), $opt="(empty)"));
	Log::write(LOG, Info($b=F, $i=0, $c=7, $d=0.1, $t=double_to_time(1234.5678905), $iv=1day,
		$s="tab\there\nnl\\ back\x01\x7f\xff caf\xc3\xa9 \xe2\x82\xac", $a=192.168.1.1, $sn=192.168.1.0/24,
		$p=0/unknown, $e=GREEN, $ss=set("\x00", "ü"), $vc=vector(5), $va=vector(1.2.3.4),
		$sa=set(1.0.0.0/8, 2.0.0.0/8), $opt="#hash", $optv=vector()));
	Log::write(LOG, Info($b=T, $i=1, $c=2, $d=123456789.123456789, $t=double_to_time(-1.5),
		$iv=0sec, $s="#starts with hash", $a=[fe80::1:2:3:4], $sn=[::ffff:0:0]/96, $p=65535/tcp,
		$e=RED, $ss=set("caf\xc3\xa9", "x,y"), $vc=vector(18446744073709551615), $va=vector(),
		$sa=set(), $optv=vector("(empty)", "-", "a,b")));
	Log::write(LOG, Info($b=T, $i=2, $c=3, $d=2.5e-7, $t=double_to_time(1e-7), $iv=3.25sec,
		$s="only \xe2\x82\xac and \xc3", $a=1.1.1.1, $sn=1.1.1.1/32, $p=443/tcp, $e=GREEN,
		$ss=set("\t"), $vc=vector(1), $va=vector(), $sa=set(), $opt=""));
	local n = 0;
	while ( n < 3 )
		{
		Log::write(LOG2, Small($n=n, $msg=fmt("line %d", n)));
		++n;
		}
	}

event do_exit() { terminate(); }

event Broker::peer_added(endpoint: Broker::EndpointInfo, msg: string)
	{
	if ( done )
		return;
	done = T;
	# Give the peering's subscriptions a moment, then write, then leave time for delivery.
	schedule 1sec { Test::go() };
	}

event Test::go()
	{
	write_all();
	schedule 2sec { do_exit() };
	}

event zeek_init()
	{
	Log::create_stream(LOG, [$columns=Info, $path="brook_test"]);
	Log::create_stream(LOG2, [$columns=Small, $path="brook_small"]);
	Broker::peer("127.0.0.1", to_port(getenv("BROOK_PORT") + "/tcp"), 1sec);
	schedule 20sec { do_exit() };
	}

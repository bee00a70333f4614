"""Follows one Hangar task over Socket.IO with Debian's python3-socketio: a client written by
someone else. Events come in batches (`events` messages); prints one JSON line per event until the task's terminal status, then exits 0.

    /usr/bin/python3 follow_task.py <url> <token> <task id>
"""
import json
import sys
import threading
import time

import socketio

url, token, task_id = sys.argv[1:4]
topic = f"task:{task_id}"
done = threading.Event()
last = {"seq": 0}
# python-engineio runs each message's handler on a thread of its own, so events can be handled
# out of order: the sequence numbers put them back in order.
pending = {}
# Handlers may run on more than one thread across reconnects: one line at a time.
lock = threading.Lock()
client = socketio.Client(reconnection=True, reconnection_delay=0.2)


def subscribe():
    client.emit("subscribe", {"topic": topic, "afterSeq": last["seq"]}, namespace="/v1", callback=on_ack)


def on_ack(ack):
    if not ack.get("ok"):
        print(json.dumps({"error": ack}), flush=True)
        done.set()


@client.on("connect", namespace="/v1")
def on_connect():
    subscribe()


@client.on("events", namespace="/v1")
def on_events(message):
    if message.get("topic") != topic:
        return
    with lock:
        for event in message["events"]:
            if event["seq"] > last["seq"]:
                pending[event["seq"]] = event
        while last["seq"] + 1 in pending:
            event = pending.pop(last["seq"] + 1)
            last["seq"] = event["seq"]
            print(json.dumps({"seq": event["seq"], "type": event["type"]}), flush=True)
            data = event.get("data") or {}
            if event["type"] == "task.status" and data.get("status") in ("COMPLETED", "FAILED", "CANCELLED"):
                done.set()


reconnecting = threading.Lock()


def wait_for_old_connection():
    # python-engineio's write loop reads `client.eio.queue` anew at each turn: one still running
    # when the next connection makes its queue takes that queue's packets too, and one of the two
    # loops then fails ("task_done() called too many times"). The old loops end before the next.
    for name in ("write_loop_task", "read_loop_task"):
        task = getattr(client.eio, name, None)
        if task is not None and task is not threading.current_thread():
            task.join(timeout=10)


def reconnect():
    # One reconnect at a time, retried until it holds (the first try may reach a replica that
    # is still draining).
    if not reconnecting.acquire(blocking=False):
        return
    try:
        for attempt in range(300):
            try:
                if client.connected:
                    client.disconnect()
                wait_for_old_connection()
                client.connect(url, namespaces=["/v1"], transports=["websocket"], auth={"token": token})
                return
            except Exception as error:  # noqa: BLE001 - any failure: try again
                print(json.dumps({"notice": f"reconnect {attempt}: {error}"}), flush=True)
                time.sleep(0.2)
    finally:
        reconnecting.release()


# The replica is going away: connect again (through the load balancer, to another one).
@client.on("drain", namespace="/v1")
def on_drain(_message):
    threading.Thread(target=reconnect, daemon=True).start()


@client.on("resync", namespace="/v1")
def on_resync(_message):
    subscribe()


client.connect(url, namespaces=["/v1"], transports=["websocket"], auth={"token": token})
if not done.wait(timeout=120):
    print(json.dumps({"error": "timed out"}), flush=True)
client.disconnect()
sys.exit(0)

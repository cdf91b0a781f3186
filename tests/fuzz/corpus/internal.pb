A0

internal_listenere1
	127.0.0.1"http


x
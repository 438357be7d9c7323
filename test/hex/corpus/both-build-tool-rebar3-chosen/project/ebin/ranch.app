{application, ranch, []}.

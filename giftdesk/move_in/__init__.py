"""Moving in: importing what an agency runs today (the instance manager's database, the tracker
backend's and the orders backend's MongoDB exports, the creator profiles) without stopping a
tracker. Above the features (it writes into several of them), beside ``desk``."""

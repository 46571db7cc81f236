from giftdesk.cli.main import main

raise SystemExit(main())
